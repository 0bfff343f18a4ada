import { TooBusyError } from './errors';
import { ListingGate } from './listing-gate';

/** A query that ends when the test says so. */
function heldQuery() {
  let finish!: (value: string) => void;
  let fail!: (err: Error) => void;
  const promise = new Promise<string>((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });
  return { query: jest.fn(() => promise), finish, fail };
}

const settled = <T>(p: Promise<T>) =>
  p.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
const flush = () => new Promise((r) => setImmediate(r));

describe('ListingGate (bounded concurrency for listing queries)', () => {
  afterEach(() => jest.useRealTimers());

  it('when more listings come than may run, then the extra ones wait in order, and past the queue they are refused without running', async () => {
    const gate = new ListingGate({ concurrency: 2, queue: 1, maxWaitMs: 60_000 });
    const held = [heldQuery(), heldQuery(), heldQuery(), heldQuery()];
    const results = held.map((h) => settled(gate.run(h.query)));
    await flush();
    expect(held.map((h) => h.query.mock.calls.length)).toEqual([1, 1, 0, 0]);
    expect(gate.state).toEqual({ running: 2, waiting: 1, refused: 1 });
    const refused = (await results[3]) as { error: unknown };
    expect(refused.error).toBeInstanceOf(TooBusyError);
    expect((refused.error as TooBusyError).status).toBe(503);
    expect((refused.error as TooBusyError).retryAfterSeconds).toBe(1);

    held[1].finish('second');
    await flush();
    expect(held[2].query).toHaveBeenCalledTimes(1); // the waiting one took the free turn
    expect(gate.state).toEqual({ running: 2, waiting: 0, refused: 1 });
    held[0].fail(new Error('query failed'));
    held[2].finish('third');
    expect(await results[0]).toEqual({ error: new Error('query failed') });
    expect(await results[1]).toEqual({ value: 'second' });
    expect(await results[2]).toEqual({ value: 'third' });
    expect(gate.state).toEqual({ running: 0, waiting: 0, refused: 1 });
  });

  it('when a listing waits past maxWaitMs, then it is refused and never runs, and the turns stay counted right', async () => {
    jest.useFakeTimers();
    const gate = new ListingGate({ concurrency: 1, queue: 5, maxWaitMs: 1000 });
    const first = heldQuery();
    const late = heldQuery();
    const running = settled(gate.run(first.query));
    const waiting = settled(gate.run(late.query));
    jest.advanceTimersByTime(1000);
    expect(await waiting).toEqual({ error: expect.any(TooBusyError) });
    expect(gate.state).toEqual({ running: 1, waiting: 0, refused: 1 });
    first.finish('done');
    expect(await running).toEqual({ value: 'done' });
    expect(late.query).not.toHaveBeenCalled();
    expect(gate.state).toEqual({ running: 0, waiting: 0, refused: 1 });
    // A turn is free again: the next listing runs at once.
    expect(await gate.run(async () => 'next')).toBe('next');
  });

  it('when the queue is 0, then a listing either runs at once or is refused at once', async () => {
    const gate = new ListingGate({ concurrency: 1, queue: 0, maxWaitMs: 1000 });
    const held = heldQuery();
    const running = gate.run(held.query);
    await expect(gate.run(async () => 'never')).rejects.toBeInstanceOf(TooBusyError);
    held.finish('ok');
    expect(await running).toBe('ok');
  });
});
