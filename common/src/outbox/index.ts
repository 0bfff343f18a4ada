// The write API and the relay; the entry schema and the relay's scheduling stay inside.
export { recordEvent, outboxEntry, outboxField, type OutboxEntry, type WithOutbox } from './entry';
export { OutboxRelay } from './relay';
