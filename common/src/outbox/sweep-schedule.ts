/**
 * The pause before the next idle sweep: the configured interval (default 15 s), or 50 times what
 * the last sweep took if that is longer, so that idle sweeps never take more than 2% of the time.
 * Why: a sweep reads the whole collection, which on a server without the right index (the FerretDB
 * stand-in) grows with the collection, even when there is nothing to publish.
 */
export function idleSweepDelay(lastSweepMs: number, intervalMs = 15_000): number {
  return Math.max(intervalMs, Math.round(lastSweepMs * 50));
}
