/**
 * Gathers what it is given and hands it over all together, once the event loop has handled the
 * I/O that was ready (a `setImmediate`), in the order given; at once when `most` are waiting.
 *
 * Why: things issued from different I/O callbacks (one per HTTP request, one per database reply)
 * cost one round trip each when sent one by one. The bus sends its publications and acks this way
 * (nats.js writes what is queued at the end of the microtask queue, and on loopback a write is
 * where the kernel does the receiving side's work too, so fewer writes save CPU on both sides); a
 * listener gathers its batches this way.
 */
export class SameTurn<T> {
  private waiting: T[] = [];

  constructor(
    private readonly send: (items: T[]) => void,
    private readonly most = Infinity,
  ) {}

  add(item: T): void {
    this.waiting.push(item);
    if (this.waiting.length >= this.most) this.flush();
    else if (this.waiting.length === 1) setImmediate(() => this.flush());
  }

  /** Hands over what is waiting now (the bus does before it drains, so that nothing is left behind). */
  flush(): void {
    const items = this.waiting;
    if (items.length === 0) return;
    this.waiting = [];
    this.send(items);
  }
}

/** A `send` for tasks: runs them in order; one that throws is reported and does not stop the others. */
export function runEach(onError: (err: unknown) => void): (tasks: (() => void)[]) => void {
  return (tasks) => {
    for (const task of tasks) {
      try {
        task();
      } catch (err) {
        onError(err);
      }
    }
  };
}
