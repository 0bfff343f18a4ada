/**
 * Runs what it is given all together, once the event loop has handled the I/O that was ready
 * (a `setImmediate`), in the order given.
 *
 * Why: nats.js writes what is queued for the server at the end of the current microtask queue, so
 * publications and acks issued from different I/O callbacks (one per HTTP request, one per
 * database reply) each cost a write to the socket, and the server a read. On loopback, a write is
 * where the kernel does the receiving side's work too: at saturation these writes were 6% of the
 * tickets service's CPU and 11% of orders'. Issued together, the publications and acks of one
 * turn of the event loop leave in one write.
 */
export class SameTurn {
  private queued: (() => void)[] = [];

  constructor(private readonly onError: (err: unknown) => void) {}

  /** Runs `task` with the others of this turn. A task that throws does not stop the others. */
  add(task: () => void): void {
    if (this.queued.length === 0) setImmediate(() => this.flush());
    this.queued.push(task);
  }

  /** Runs what is waiting now (before the connection is drained, so that nothing is left behind). */
  flush(): void {
    const tasks = this.queued;
    this.queued = [];
    for (const task of tasks) {
      try {
        task();
      } catch (err) {
        this.onError(err);
      }
    }
  }
}
