import { TooBusyError } from './errors';

export interface ListingLimitOptions {
  /** Listing queries this copy runs at once. */
  concurrency: number;
  /** Listings that may wait for a turn; past that, 503 at once. */
  queue: number;
  /** How long a listing may wait for its turn before it gets 503 instead. */
  maxWaitMs: number;
}

/**
 * A listing reads up to a page of records and sorts them, far more work for the database than a
 * read by id or a write; four at once already keep it busy, and a short queue absorbs a page
 * view's few at once. What waits longer than a second is better told to retry (docs/edge.md).
 */
export const DEFAULT_LISTING_LIMIT: ListingLimitOptions = { concurrency: 4, queue: 16, maxWaitMs: 1000 };

/**
 * Bounded concurrency for listing queries, one per service copy: at most `concurrency` run at
 * once, up to `queue` more wait in order, and any other gets {@link TooBusyError} (503 with
 * `Retry-After` and the JSON error shape), as does one that waited `maxWaitMs`. So a burst of
 * listings cannot hold every database connection and make single reads and writes wait behind it.
 * Written here rather than taken from a package: the bounded queue and the wait deadline are the
 * point, and p-limit and its kin offer neither.
 */
export class ListingGate {
  private running = 0;
  private readonly waiting: Array<{ start: () => void; timer: NodeJS.Timeout }> = [];
  /** Listings refused so far (queue full or waited too long). */
  refused = 0;

  constructor(readonly options: ListingLimitOptions = DEFAULT_LISTING_LIMIT) {}

  /** How many listing queries run and wait now. */
  get state(): { running: number; waiting: number; refused: number } {
    return { running: this.running, waiting: this.waiting.length, refused: this.refused };
  }

  /** Runs `query` when a turn is free, or throws TooBusyError without running it. */
  async run<T>(query: () => Promise<T>): Promise<T> {
    await this.turn();
    try {
      return await query();
    } finally {
      this.release();
    }
  }

  private turn(): Promise<void> {
    if (this.running < this.options.concurrency) {
      this.running++;
      return Promise.resolve();
    }
    if (this.waiting.length >= this.options.queue) return Promise.reject(this.refuse());
    return new Promise<void>((resolve, reject) => {
      const entry = {
        // The turn passes straight from the listing that ends to this one: `running` stays.
        start: () => {
          clearTimeout(entry.timer);
          resolve();
        },
        timer: setTimeout(() => {
          this.waiting.splice(this.waiting.indexOf(entry), 1);
          reject(this.refuse());
        }, this.options.maxWaitMs),
      };
      this.waiting.push(entry);
    });
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next.start();
    else this.running--;
  }

  private refuse(): TooBusyError {
    this.refused++;
    return new TooBusyError('Too many listings at once; retry shortly');
  }
}
