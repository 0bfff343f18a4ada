import { eventMessageId, type AnyEvent } from '../events/contracts';
import type { Bus } from './types';

/**
 * Publishes one subject's events. `publish` resolves once the server has stored the event; the
 * message id (subject, record, version) makes publishing the same version again a no-op.
 */
export abstract class Publisher<E extends AnyEvent> {
  abstract readonly subject: E['subject'];

  constructor(protected readonly bus: Bus) {}

  publish(data: E['data']): Promise<void> {
    return this.bus.publish(this.subject, data, eventMessageId(this.subject, data));
  }
}
