import net from 'node:net';
import { once } from 'node:events';
import mongoose from 'mongoose';
import { createLogger, Subjects, type RunningService } from '@ticketing/common';
import {
  acceptsConnection,
  authHeader,
  otherAddressesOfThisMachine,
  readStream,
  startNatsServer,
  startSlowRequest,
  testMongoUrl,
  testToken,
  TEST_JWT_KEY,
  waitFor,
  type NatsServerHandle,
  JetStreamBus,
} from '@ticketing/common/testing';
import { loadConfig } from './config';
import { startService } from './service';

/** The real start-up and shutdown, on a real port: what Kubernetes sees. */
describe('tickets process start-up and graceful shutdown', () => {
  let nats: NatsServerHandle;
  let service: RunningService;
  let lines: Record<string, unknown>[];

  beforeAll(async () => {
    nats = await startNatsServer();
  });
  beforeEach(async () => {
    lines = [];
    const config = loadConfig({
      MONGO_URL: testMongoUrl('tickets'),
      NATS_URL: nats.url,
      JWT_KEY: TEST_JWT_KEY,
      PORT: '0',
      // shorter than the default, so that a stalled upload is cut off within the test
      HTTP_INACTIVITY_TIMEOUT_MS: '2000',
    });
    service = await startService(
      config,
      createLogger({}, 'info', (line) => lines.push(JSON.parse(line))),
    );
  });
  afterEach(async () => {
    await service.stop();
  });
  afterAll(async () => {
    await nats.destroy();
  });

  it('when started, then it logs one "tickets listening" line with its address and port and is ready', async () => {
    expect(lines.filter((l) => l.message === 'tickets listening')).toEqual([
      expect.objectContaining({ level: 'info', host: '127.0.0.1', port: service.port }),
    ]);
    const ready = await fetch(`http://127.0.0.1:${service.port}/readyz`);
    expect(ready.status).toBe(200);
  });

  it('when HOST is not set, then it listens on loopback only: no other address of this machine reaches it', async () => {
    for (const address of otherAddressesOfThisMachine()) {
      expect({ address, open: await acceptsConnection(service.port, address) }).toEqual({ address, open: false });
    }
  });

  it('when an upload stalls, then the configured inactivity timeout answers it with a JSON 408 and closes the connection', async () => {
    const socket = net.connect(service.port, '127.0.0.1');
    await once(socket, 'connect');
    let received = '';
    let closed = false;
    socket.on('data', (chunk) => (received += chunk.toString()));
    socket.on('close', () => (closed = true));
    socket.write(`POST /api/tickets HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 40\r\n\r\n{"title":`);
    await waitFor(() => closed, { what: 'the stalled upload to be closed' });
    expect(received).toMatch(/^HTTP\/1.1 408 /);
    expect(JSON.parse(received.split('\r\n\r\n')[1])).toEqual({ code: 'timeout', errors: [{ message: expect.any(String) }] });
  });

  it('when a request fails with a 500 on the real database, then every line logged while it was handled carries its request id', async () => {
    // An index the service does not know of (an operator's, say) makes the second save fail
    // with a duplicate key: an error the service has no answer for, hence a 500.
    const tickets = mongoose.connection.collection('tickets');
    await tickets.createIndex({ title: 1 }, { unique: true, name: 'unexpected_unique_title' });
    try {
      const post = () =>
        fetch(`http://127.0.0.1:${service.port}/api/tickets`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...authHeader(testToken()) },
          body: JSON.stringify({ title: 'Only once', price: 5 }),
        });
      expect((await post()).status).toBe(201);
      const before = lines.length;
      const failed = await post();
      expect(failed.status).toBe(500);
      const requestId = failed.headers.get('x-request-id');
      expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
      // The access line is written when the answer has gone out, maybe after the client has it.
      await waitFor(() => lines.slice(before).some((l) => l.message === 'http request'));
      const during = lines.slice(before);
      expect(during.map((l) => l.message)).toEqual(['http: unexpected error', 'http request']);
      for (const line of during) expect(line).toMatchObject({ requestId });
      expect(during[0]).toMatchObject({
        level: 'error',
        err: expect.objectContaining({ message: expect.stringMatching(/duplicate key/i) }),
      });
      expect(during[1]).toMatchObject({ level: 'warn', status: 500, path: '/api/tickets' });
    } finally {
      await tickets.dropIndex('unexpected_unique_title');
    }
  });

  it('when stopped while a request is in flight, then that request completes (and its event is published) before everything closes', async () => {
    const port = service.port;
    const inFlight = startSlowRequest(port, '/api/tickets', JSON.stringify({ title: 'Last call', price: 12 }), authHeader(testToken()));
    await inFlight.started;

    let stopDone = false;
    const stopped = service.stop().then(() => (stopDone = true));
    await refusesConnections(port); // stopping has begun
    expect(stopDone).toBe(false); // still waiting for the request
    inFlight.finish();
    const res = await inFlight.response;
    await stopped;

    expect(res.status).toBe(201);
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow(); // no longer listening
    expect(mongoose.connection.readyState).toBe(mongoose.ConnectionStates.disconnected);
    const reader = await JetStreamBus.connect({ servers: nats.url, name: 'main-test-reader' });
    try {
      const events = await readStream<{ id: string }>(reader, { subject: Subjects.TicketCreated });
      expect(events.map((e) => e.data.id)).toContain(JSON.parse(res.text).id);
    } finally {
      await reader.close();
    }
  });
});

/** Waits until the port takes no new connection: the service has started to stop. */
function refusesConnections(port: number): Promise<boolean> {
  return waitFor(
    () =>
      fetch(`http://127.0.0.1:${port}/healthz`).then(
        () => false,
        () => true,
      ),
    { what: `port ${port} to refuse connections` },
  );
}
