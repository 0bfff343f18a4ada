import { Types } from 'mongoose';
import type { JetStreamBus } from '../bus/jetstream-bus';
import { eventMessageId } from '../events/contracts';
import type { Subject } from '../events/subjects';

/** A fresh id in the form both services use (24 hex digits). */
export const newId = (): string => new Types.ObjectId().toHexString();

/**
 * Publishes an event as its service's outbox would, with the same message id. `delivery` makes a
 * distinct one, so the bus does not drop a deliberate duplicate before a listener gets to see it.
 */
export function publishEvent(bus: JetStreamBus, subject: Subject, data: { id: string; version: number }, delivery = ''): Promise<void> {
  return bus.publish(subject, data, eventMessageId(subject, data) + delivery);
}
