/**
 * How long to wait before a message is delivered again. Exponential with jitter, so a failing
 * handler never turns into a busy loop and several copies do not retry in lock step.
 */
export interface RetryPolicy {
  /** The first delay. */
  baseMs: number;
  /** The largest delay. */
  maxMs: number;
}

/** A handler that threw: the database may be down; back off up to several seconds. */
export const FAILURE_RETRY: RetryPolicy = { baseMs: 200, maxMs: 10_000 };
/** An event that came before its predecessor: that one is usually a few milliseconds away. */
export const OUT_OF_ORDER_RETRY: RetryPolicy = { baseMs: 20, maxMs: 2_000 };

export function retryDelay(policy: RetryPolicy, deliveryCount: number, random: () => number = Math.random): number {
  const exponent = Math.min(Math.max(deliveryCount - 1, 0), 30);
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** exponent);
  // "Equal jitter": at least half the ceiling, at most the ceiling.
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
