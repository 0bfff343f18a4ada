import { FAILURE_RETRY, OUT_OF_ORDER_RETRY, retryDelay } from './retry-policy';

describe('retryDelay', () => {
  it('grows exponentially with the delivery count and stays within half to all of the ceiling', () => {
    expect(retryDelay(FAILURE_RETRY, 1, () => 0)).toBe(100);
    expect(retryDelay(FAILURE_RETRY, 1, () => 1)).toBe(200);
    expect(retryDelay(FAILURE_RETRY, 3, () => 1)).toBe(800);
  });

  it('never exceeds the maximum, even after very many deliveries', () => {
    expect(retryDelay(FAILURE_RETRY, 1000, () => 1)).toBe(FAILURE_RETRY.maxMs);
    expect(retryDelay(OUT_OF_ORDER_RETRY, 50, () => 1)).toBe(OUT_OF_ORDER_RETRY.maxMs);
  });

  it('retries an out-of-order event much sooner than a failing one', () => {
    expect(retryDelay(OUT_OF_ORDER_RETRY, 1, () => 1)).toBeLessThan(retryDelay(FAILURE_RETRY, 1, () => 0));
  });
});
