// The write API and the relay; the entry schema and the relay's scheduling stay inside.
export { recordEvent, outboxEntry, outboxField, OutboxRelay, type OutboxEntry, type WithOutbox } from './outbox';
