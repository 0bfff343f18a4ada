import mongoose from 'mongoose';
import { silentLogger, type Logger } from '@ticketing/common';
import { Ticket } from './tickets/ticket.model';
import { OrderRef } from './events/order-ref.model';

/** How long a query waits for a lost database connection before failing (503), not hanging. */
export const DB_BUFFER_TIMEOUT_MS = 2000;

/** Connects mongoose as the service runs it (main and tests alike), with the indexes in place. */
export async function connectDatabase(url: string, logger: Logger = silentLogger): Promise<void> {
  mongoose.set('bufferTimeoutMS', DB_BUFFER_TIMEOUT_MS);
  mongoose.connection.on('disconnected', () => logger.warn('mongo: disconnected'));
  mongoose.connection.on('reconnected', () => logger.info('mongo: reconnected'));
  await mongoose.connect(url, { serverSelectionTimeoutMS: 5000 });
  // The listing's index and order_refs' collection exist before the first request or event.
  await Promise.all([Ticket.init(), OrderRef.init()]);
}
