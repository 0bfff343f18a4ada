// What the services use; the schemas themselves stay behind the Listener that checks them.
export * from './subjects';
export * from './order-status';
export {
  eventMessageId,
  type TicketEventData,
  type OrderEventData,
  type TicketCreatedEvent,
  type TicketUpdatedEvent,
  type OrderCreatedEvent,
  type OrderUpdatedEvent,
} from './contracts';
