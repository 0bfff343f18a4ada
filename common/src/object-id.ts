/**
 * Ids are 24 hex digits, the form both services share. Checked before any query: mongoose would
 * also accept a 12-character string or an object, and a query operator must never reach a filter.
 */
export function isObjectIdString(value: unknown): value is string {
  return typeof value === 'string' && /^[0-9a-f]{24}$/i.test(value);
}
