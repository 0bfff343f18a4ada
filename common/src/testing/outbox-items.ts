import mongoose, { Schema } from 'mongoose';
import { outboxField, type WithOutbox } from '../outbox/entry';
import type { TicketEventData } from '../events/contracts';

/** A record with an outbox, for the tests of the outbox and of what travels with its events. */
export interface OutboxItem extends WithOutbox {
  title: string;
  price: number;
  version: number;
}

/** The model of such records under `name` (one per test file: models are global to mongoose). */
export function outboxItemModel(name: string) {
  return mongoose.model<OutboxItem>(
    name,
    new Schema<OutboxItem>({ title: String, price: Number, ...outboxField }, { versionKey: 'version', optimisticConcurrency: true }),
  );
}

/** The data of an item's ticket event at `version`. */
export const itemEventData = (doc: { id: string; title: string; price: number }, version: number): TicketEventData => ({
  id: doc.id,
  version,
  title: doc.title,
  price: doc.price,
  userId: 'u-1',
});
