import { startStanServer, StanBus } from '@ticketing/common/testing';
import { benchRawBus } from './raw-jetstream';

/**
 * The bus alone on NATS Streaming: publish (stored, acknowledged by the server) → consume through
 * our Listener base → ack. Messages per second, the same measurement as `benchRawJetStream`.
 */
export async function benchRawStan(messages: number): Promise<number> {
  // A server of its own, default heartbeats: the same binary the stack runs.
  const server = await startStanServer({ heartbeat: { interval: '30s', timeout: '10s', failCount: 10 } });
  const bus = await StanBus.connect({ servers: server.url, clusterId: server.clusterId, name: 'bench-raw' });
  try {
    return await benchRawBus(bus, messages);
  } finally {
    await bus.close();
    await server.destroy();
  }
}
