import { Subjects, createLogger, type OrderEventData, type RunningService } from '@ticketing/common';
import {
  TEST_JWT_KEY,
  authHeader,
  readStream,
  startNatsServer,
  startSlowRequest,
  testMongoUrl,
  testToken,
  waitFor,
  type NatsServerHandle,
  newId,
  JetStreamBus,
} from '@ticketing/common/testing';
import request from 'supertest';
import { loadConfig } from './config';
import { startService } from './service';
import { buildTicketEvent } from './test-kit/builders';
import { publishTicketEvent } from './test-kit/events';

describe('the orders service as main.ts runs it (real servers)', () => {
  let nats: NatsServerHandle;
  let bus: JetStreamBus;
  let service: RunningService;
  const logs: Record<string, unknown>[] = [];

  beforeAll(async () => {
    nats = await startNatsServer();
    bus = await JetStreamBus.connect({ servers: nats.url, name: 'tickets-stand-in' });
    const config = loadConfig({
      PORT: '0',
      MONGO_URL: testMongoUrl('orders'),
      NATS_URL: nats.url,
      JWT_KEY: TEST_JWT_KEY,
      NATS_CLIENT_NAME: 'orders-under-test',
    });
    service = await startService(
      config,
      createLogger({ service: 'orders' }, 'info', (line) => logs.push(JSON.parse(line))),
    );
  });
  afterAll(async () => {
    await service.stop();
    await bus.close();
    await nats.destroy();
  });

  const api = () => request(`http://127.0.0.1:${service.port}`);

  it('when a ticket is published by the tickets service, then it can be ordered over HTTP, order:created is published, and the stats count both', async () => {
    expect((await api().get('/readyz').expect(200)).body.checks).toEqual({ mongo: true, nats: true, accepting: true });
    const ticket = buildTicketEvent({ price: 15 });
    await publishTicketEvent(bus, Subjects.TicketCreated, ticket);
    await waitFor(async () => (await api().get(`/api/orders/tickets/${ticket.id}`)).status === 200, { what: 'the replica' });

    const res = await api().post('/api/orders').set(authHeader(testToken())).send({ ticketId: ticket.id }).expect(201);

    await waitFor(async () =>
      (await readStream<OrderEventData>(bus, { subject: Subjects.OrderCreated })).some((m) => m.data.id === res.body.id),
    );
    const stats = await waitFor(async () => {
      const body = (await api().get('/internal/stats')).body;
      return body.outbox.published === 1 ? body : null;
    });
    expect(stats.listeners['ticket:created']).toEqual({ handled: 1, applied: 1, duplicates: 0, retried: 0, deadLettered: 0 });
    expect(stats.listeners['ticket:updated']).toEqual({ handled: 0, applied: 0, duplicates: 0, retried: 0, deadLettered: 0 });
  });

  it('when ticket events come through NATS, then the replication-lag histogram counts exactly the events applied, by subject (not the duplicate)', async () => {
    const lagCount = async (subject: string) => {
      const text = (await api().get('/metrics').expect(200)).text;
      const line = text
        .split('\n')
        .find((l) => l.startsWith('ticket_replication_lag_seconds_count{') && l.includes(`subject="${subject}"`));
      return line ? Number(line.split(' ').at(-1)) : 0;
    };
    const listenerStats = async () => (await api().get('/internal/stats')).body.listeners;
    const [createdBefore, updatedBefore] = [await lagCount('ticket:created'), await lagCount('ticket:updated')];
    const before = await listenerStats();

    const ticket = buildTicketEvent({ price: 10 });
    await publishTicketEvent(bus, Subjects.TicketCreated, ticket);
    await waitFor(async () => (await listenerStats())['ticket:created'].applied === before['ticket:created'].applied + 1);
    const updated = { ...ticket, version: 1, price: 11 };
    await publishTicketEvent(bus, Subjects.TicketUpdated, updated);
    await waitFor(async () => (await listenerStats())['ticket:updated'].applied === before['ticket:updated'].applied + 1);
    // the same event again under another message id: delivered, recognised, not applied
    await publishTicketEvent(bus, Subjects.TicketUpdated, updated, 'a-second-copy');
    await waitFor(async () => (await listenerStats())['ticket:updated'].duplicates === before['ticket:updated'].duplicates + 1);

    expect(await lagCount('ticket:created')).toBe(createdBefore + 1);
    expect(await lagCount('ticket:updated')).toBe(updatedBefore + 1);
  });

  it('when it is stopped during a request, then that request is finished, new ones are refused, and it disconnects cleanly', async () => {
    const body = JSON.stringify({ ticketId: newId() });
    const inFlight = startSlowRequest(service.port, '/api/orders', body, authHeader(testToken()));
    await inFlight.started;

    const stopped = service.stop();
    // stopping has begun once new connections are refused
    await waitFor(
      () =>
        api()
          .get('/healthz')
          .then(
            () => false,
            () => true,
          ),
      { what: 'new connections to be refused' },
    );
    inFlight.finish();

    expect((await inFlight.response).status).toBe(404); // an unknown ticket: the request ran to the end, against a live database
    await stopped;
    await expect(api().get('/healthz')).rejects.toThrow(/ECONNREFUSED/);
    expect(logs.filter((l) => l.level === 'error')).toEqual([]);
  });
});
