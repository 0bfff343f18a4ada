export { nextVersion, outboxEntry, outboxEntrySchema, outboxField, recordEvent, type OutboxEntry, type WithOutbox } from './entry';
export { OutboxRelay, type OutboxRelayOptions } from './relay';
export { idleSweepDelay } from './sweep-schedule';
