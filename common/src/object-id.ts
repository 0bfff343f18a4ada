/** The one pattern of an id, for schemas that take a regular expression (the event contracts). */
export const OBJECT_ID = /^[0-9a-f]{24}$/i;

/**
 * Ids are 24 hex digits, the form both services share. Checked before any query: mongoose would
 * also accept a 12-character string or an object, and a query operator must never reach a filter.
 */
export function isObjectIdString(value: unknown): value is string {
  return typeof value === 'string' && OBJECT_ID.test(value);
}
