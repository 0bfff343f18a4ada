import mongoose, { type Model } from 'mongoose';
import { silentLogger, type Logger } from '../logger';

/** How long a query waits for a lost database connection before failing (503), not hanging. */
export const DB_BUFFER_TIMEOUT_MS = 2000;

/**
 * Connects mongoose as a service runs it (main and tests alike), then builds the models' indexes
 * and collections so that they exist before the first request or event.
 */
export async function connectMongo(url: string, models: Model<any>[], logger: Logger = silentLogger): Promise<void> {
  mongoose.set('bufferTimeoutMS', DB_BUFFER_TIMEOUT_MS);
  mongoose.connection.on('disconnected', () => logger.warn('mongo: disconnected'));
  mongoose.connection.on('reconnected', () => logger.info('mongo: reconnected'));
  await mongoose.connect(url, { serverSelectionTimeoutMS: 5000 });
  await Promise.all(models.map((model) => model.init()));
}
