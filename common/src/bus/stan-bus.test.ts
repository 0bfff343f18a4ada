import { Types } from 'mongoose';
import { StanBus, stanClientId } from './stan-bus';
import { RecordingListener } from '../testing/test-listeners';
import { Subjects } from '../events/subjects';
import type { TicketEventData } from '../events/contracts';
import { waitFor } from '../testing/helpers';
import { createLogger, type Logger } from '../logger';
import { startStanServer, stanClients, type StanServerHandle } from '../testing/stan-server';
import { startTcpProxy, type TcpProxy } from '../testing/tcp-proxy';

const ticketEvent = (): TicketEventData => ({ id: new Types.ObjectId().toHexString(), version: 0, title: 't', price: 1, userId: 'u' });

describe('NATS Streaming client ids', () => {
  it('when a copy connects, then its client id is its name, sanitised to what the server accepts, plus a unique suffix', () => {
    const a = stanClientId('orders-7f9c/pod.1');
    const b = stanClientId('orders-7f9c/pod.1');
    expect(a).toMatch(/^orders-7f9c_pod_1-[0-9a-f]{12}$/);
    expect(a).not.toBe(b);
  });
});

/** What only NATS Streaming needs: its client ids and its way of coming back from a lost connection. */
describe('NATS Streaming bus connections (real nats-streaming-server)', () => {
  let server: StanServerHandle;
  let proxy: TcpProxy;
  const opened: { close(): Promise<void> }[] = [];
  const connect = async (name: string, url = server.url, logger?: Logger) => {
    const bus = await StanBus.connect({ servers: url, clusterId: server.clusterId, name, pingIntervalMs: 1_000, maxPingsOut: 2, logger });
    opened.push(bus);
    return bus;
  };
  const listen = async (bus: StanBus, group: string) => {
    const listener = new RecordingListener(bus, group);
    opened.unshift(listener);
    await listener.listen();
    return listener;
  };

  beforeAll(async () => {
    server = await startStanServer();
  });
  beforeEach(async () => {
    await server.reset();
    proxy = await startTcpProxy(server.port);
  });
  afterEach(async () => {
    for (const o of opened.splice(0)) await o.close();
    await proxy.close();
  });
  afterAll(async () => {
    await server.destroy();
  });

  it('when two copies with one name connect at once, then both are accepted with distinct client ids', async () => {
    const [a, b] = await Promise.all([connect('orders-1'), connect('orders-1')]);
    expect(a.currentClientId).not.toBe(b.currentClientId);
    expect(await stanClients(server.monitorUrl)).toEqual(expect.arrayContaining([a.currentClientId, b.currentClientId]));
  });

  it('when a copy vanishes without closing and starts again at once, then it resumes its queue durable while the server still holds the old client', async () => {
    const publisher = await connect('publisher');
    const crashed = await connect('orders-crash', `nats://127.0.0.1:${proxy.port}`);
    await listen(crashed, 'g-crash');
    const oldId = crashed.currentClientId;
    // Its connection disappears as with SIGKILL: no goodbye to the server.
    await proxy.cut();
    expect(await stanClients(server.monitorUrl)).toContain(oldId);
    const restarted = await connect('orders-crash');
    const listener = await listen(restarted, 'g-crash');
    const events = Array.from({ length: 5 }, ticketEvent);
    for (const e of events) await publisher.publish(Subjects.TicketCreated, e);
    await waitFor(() => listener.handledEvents.length === 5, { timeoutMs: 15_000 });
    expect(listener.handledEvents.map((e) => e.id).sort()).toEqual(events.map((e) => e.id).sort());
  }, 30_000);

  it('when a connection drops for longer than the pings allow, then the bus connects anew with a fresh id, re-subscribes and gets what was published meanwhile', async () => {
    const publisher = await connect('publisher');
    const lines: { message: string }[] = [];
    const bus = await connect(
      'orders-blip',
      `nats://127.0.0.1:${proxy.port}`,
      createLogger({}, 'info', (line) => lines.push(JSON.parse(line))),
    );
    const listener = await listen(bus, 'g-blip');
    const before = ticketEvent();
    await publisher.publish(Subjects.TicketCreated, before);
    await waitFor(() => listener.handledEvents.length === 1);
    const firstId = bus.currentClientId;

    await proxy.cut();
    await waitFor(() => !bus.isConnected(), { what: 'the bus noticed the cut' });
    const during = Array.from({ length: 10 }, ticketEvent);
    for (const e of during) await publisher.publish(Subjects.TicketCreated, e);
    // Cut for longer than the pings allow: the bus has given its connection up and the server,
    // by its heartbeat check, has forgotten the client.
    await waitFor(() => lines.some((l) => l.message.startsWith('bus: NATS Streaming connection lost')), {
      what: 'the bus to give the connection up',
    });
    await waitFor(async () => !(await stanClients(server.monitorUrl)).includes(firstId), { what: 'the server to forget the client' });
    await proxy.restore();

    await waitFor(() => bus.isConnected() && bus.currentClientId !== firstId, { timeoutMs: 15_000, what: 'a new connection' });
    await waitFor(() => listener.handledEvents.length === 11, { timeoutMs: 20_000, what: 'the events published during the cut' });
    expect(new Set(listener.handledEvents.map((e) => e.id))).toEqual(new Set([before, ...during].map((e) => e.id)));
    // It publishes again too.
    const after = ticketEvent();
    await bus.publish(Subjects.TicketCreated, after);
    await waitFor(() => listener.handledEvents.some((e) => e.id === after.id));
  }, 45_000);
});
