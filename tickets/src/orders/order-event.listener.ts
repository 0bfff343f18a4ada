import { Listener, type Bus, type Logger, type OrderCreatedEvent, type OrderUpdatedEvent, type OutboxRelay } from '@ticketing/common';
import { QUEUE_GROUP_NAME } from '../queue-group';

/**
 * What both listeners of order events share: this service's queue group, and the relay that
 * publishes the `ticket:updated` a reservation or a release stores with the ticket.
 */
export abstract class OrderEventListener<E extends OrderCreatedEvent | OrderUpdatedEvent> extends Listener<E> {
  readonly queueGroupName = QUEUE_GROUP_NAME;

  constructor(
    bus: Bus,
    protected readonly relay: OutboxRelay,
    logger?: Logger,
  ) {
    super(bus, logger);
  }
}
