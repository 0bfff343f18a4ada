import { connectMongo, type Logger } from '@ticketing/common';
import { Ticket } from './tickets/ticket.model';
import { OrderRef } from './orders/order-replica.model';

/** The listing's index and order_refs' collection exist before the first request or event. */
export function connectDatabase(url: string, logger?: Logger): Promise<void> {
  return connectMongo(url, [Ticket, OrderRef], logger);
}
