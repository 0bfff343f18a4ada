// What the services use; the schemas themselves stay behind the Listener that checks them.
export { Subjects } from './subjects';
export * from './order-status';
export {
  type TicketEventData,
  type OrderEventData,
  type TicketCreatedEvent,
  type TicketUpdatedEvent,
  type OrderCreatedEvent,
  type OrderUpdatedEvent,
} from './contracts';
