import type { OrderEventData, TicketEventData } from '@ticketing/common';
import { publishEvent, settledEvents, type PublishedEvent, type JetStreamBus, type Subject } from '@ticketing/common/testing';
import { Order } from '../orders/order.model';

/** Every order event stored in the stream about this order, once its outbox is empty (see `settledEvents`). */
export function publishedOrderEvents(bus: JetStreamBus, orderId: string): Promise<PublishedEvent<OrderEventData>[]> {
  return settledEvents<OrderEventData>(bus, Order, 'order', orderId);
}

/** Publishes a ticket event as the tickets service would (`delivery`: see `publishEvent`). */
export function publishTicketEvent(bus: JetStreamBus, subject: Subject, data: TicketEventData, delivery = ''): Promise<void> {
  return publishEvent(bus, subject, data, delivery);
}
