/**
 * `db.query.text` for the MongoDB instrumentation: the command's shape with every value replaced by
 * `?` (as its default serializer does), but with only the first element of each array and a count
 * of the rest. The default walks every document of a command through a JSON.stringify replacer:
 * a bulk write of many events, or an update carrying its outbox entries, cost more to describe than
 * to send, and made the largest attribute of every exported span.
 */
export function mongoStatement(command: unknown): string {
  return JSON.stringify(shape(command, 0));
}

/** Deeper than any of the services' queries; stops a pathological document from costing more. */
const MAX_DEPTH = 8;

function shape(value: unknown, depth: number): unknown {
  if (typeof value !== 'object' || value === null) return '?';
  // BSON values (ObjectId, Long, Decimal128…), dates and binary data are values, not structure.
  if ('_bsontype' in value || value instanceof Date || ArrayBuffer.isView(value)) return '?';
  if (depth >= MAX_DEPTH) return '…';
  if (Array.isArray(value)) {
    if (value.length === 0) return [];
    const first = shape(value[0], depth + 1);
    return value.length === 1 ? [first] : [first, `…${value.length - 1} more`];
  }
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) out[key] = shape((value as Record<string, unknown>)[key], depth + 1);
  return out;
}
