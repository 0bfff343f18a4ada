import { startMongoServer, type MongoServerHandle } from './mongo-server';

/**
 * One MongoDB-protocol server for the whole test run (each test file uses its own database);
 * its URL reaches the test workers as TEST_MONGO_URL. NATS is started per test file instead, since
 * tests stop and restart it.
 */
export default async function globalSetup(): Promise<void> {
  if (process.env.TEST_MONGO_URL) return;
  const server = await startMongoServer();
  process.env.TEST_MONGO_URL = server.url;
  (globalThis as { __ticketingMongo?: MongoServerHandle }).__ticketingMongo = server;
}
