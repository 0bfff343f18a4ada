import { connectMongo, type Logger } from '@ticketing/common';
import { Order } from './orders/order.model';
import { Ticket } from './tickets/ticket-replica.model';

/** The orders' indexes and the replicas' collection exist before the first request or event. */
export function connectDatabase(url: string, logger?: Logger): Promise<void> {
  return connectMongo(url, [Order, Ticket], logger);
}
