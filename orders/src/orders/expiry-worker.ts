import { OrderStatus, silentLogger, type Logger, type OutboxRelay } from '@ticketing/common';
import { Error as MongooseError } from 'mongoose';
import { Ticket } from '../tickets/ticket-replica.model';
import { cancelOrder } from './cancel-order';
import { Order, type OrderDocument } from './order.model';

export interface ExpiryWorkerOptions {
  relay: OutboxRelay;
  /** How often to look for orders past their deadline. */
  intervalMs: number;
  clock?: () => Date;
  /** Orders expired per pass; the rest wait for the next pass. */
  batchSize?: number;
  logger?: Logger;
}

/**
 * Cancels orders still `created` after their deadline. The deadline is a field of the order, so
 * nothing is lost when a process restarts: whichever copy looks next finds it. Several copies may
 * find the same order at once; the optimistic save lets exactly one of them cancel it and record
 * its event, and the others get a VersionError and move on.
 */
export class ExpiryWorker {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private readonly clock: () => Date;
  private readonly logger: Logger;

  constructor(private readonly options: ExpiryWorkerOptions) {
    this.clock = options.clock ?? (() => new Date());
    this.logger = options.logger ?? silentLogger;
  }

  /** Runs a pass now (orders may have expired while no copy was running), then every interval. */
  start(): void {
    if (this.timer) return;
    const tick = () => {
      this.running ??= this.runOnce()
        .then(() => undefined)
        .catch((err: unknown) => this.logger.warn({ err }, 'expiry: pass failed'))
        .finally(() => (this.running = undefined));
    };
    tick();
    this.timer = setInterval(tick, this.options.intervalMs);
    this.timer.unref();
  }

  /** Stops the timer and waits for a pass in progress. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** One pass: returns how many orders this worker cancelled. */
  async runOnce(): Promise<number> {
    const due = await Order.find({ status: OrderStatus.Created, expiresAt: { $lte: this.clock() } })
      .sort({ expiresAt: 1 })
      .limit(this.options.batchSize ?? 100);
    let cancelled = 0;
    for (const order of due) {
      if (await this.expire(order)) cancelled++;
    }
    return cancelled;
  }

  private async expire(order: OrderDocument): Promise<boolean> {
    try {
      const ticket = await Ticket.findById(order.ticket, { price: 1 }).lean();
      if (!ticket) throw new Error(`ticket replica ${String(order.ticket)} is missing`);
      await cancelOrder(order, ticket, this.options.relay);
      this.logger.info({ orderId: order.id, ticketId: String(order.ticket) }, 'expiry: order expired');
      return true;
    } catch (err) {
      // Another copy (or the user) changed it first: it is theirs to publish.
      if (err instanceof MongooseError.VersionError) return false;
      this.logger.warn({ err, orderId: order.id }, 'expiry: could not expire order, will retry');
      return false;
    }
  }
}
