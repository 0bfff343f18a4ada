import { Types, type Model } from 'mongoose';
import type { JetStreamBus } from '../bus/jetstream-bus';
import { eventMessageId } from '../events/contracts';
import type { Subject } from '../events/subjects';
import { waitFor } from './helpers';
import { readStream } from './stream-reader';

/** A fresh id in the form both services use (24 hex digits). */
export const newId = (): string => new Types.ObjectId().toHexString();

/**
 * Publishes an event as its service's outbox would, with the same message id. `delivery` makes a
 * distinct one, so the bus does not drop a deliberate duplicate before a listener gets to see it.
 */
export function publishEvent(bus: JetStreamBus, subject: Subject, data: { id: string; version: number }, delivery = ''): Promise<void> {
  return bus.publish(subject, data, eventMessageId(subject, data) + delivery);
}

export interface PublishedEvent<T> {
  subject: string;
  data: T;
  msgId?: string;
}

/**
 * Every event really stored in the stream about one record, oldest first. Waits until the
 * record's outbox is empty first, i.e. until everything its writes recorded has been published:
 * so "no event" is an answer, not a race.
 */
export async function settledEvents<T extends { id: string }>(
  bus: JetStreamBus,
  model: Model<any>,
  entity: 'ticket' | 'order',
  id: string,
): Promise<PublishedEvent<T>[]> {
  await waitFor(
    async () => {
      const record = await model.findById(id, { outbox: 1 }).lean<{ outbox: unknown[] }>();
      return record !== null && record.outbox.length === 0;
    },
    { what: `${entity} ${id}'s outbox to be published` },
  );
  const stored = await readStream<T>(bus);
  return stored
    .filter((m) => m.subject.startsWith(`${entity}:`) && m.data.id === id)
    .map(({ subject, data, msgId }) => ({ subject, data, msgId }));
}
