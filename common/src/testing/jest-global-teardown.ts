import type { MongoServerHandle } from './mongo-server';

export default async function globalTeardown(): Promise<void> {
  await (globalThis as { __ticketingMongo?: MongoServerHandle }).__ticketingMongo?.destroy();
}
