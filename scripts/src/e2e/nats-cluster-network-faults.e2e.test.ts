import { Subjects } from '@ticketing/common';
import {
  startNatsCluster,
  startToxiproxy,
  waitFor,
  type NatsClusterHandle,
  type ToxicProxy,
  type ToxiproxyHandle,
  DEFAULT_STREAM,
} from '@ticketing/common/testing';
import { runStress } from '../stress/run-stress';
import { crossServiceCheck, listenerStats, startTestStack, stackApi, ticketsOutbox } from './stack-fixture';
import { hostOf, serviceLinks, stackLinks, type ServiceLinks, type ServiceName } from './fault-links';

/**
 * Network faults in the three-node JetStream cluster of infra/k8s/nats.yaml: every route between
 * two nodes goes through a Toxiproxy proxy of its own (node i's route to node j), and each service
 * reaches each node through its own proxy too. Latency everywhere; a node cut off from its peers
 * while its clients still reach it; a service cut off from the node it uses. No accepted write is
 * lost or stored twice, the nodes' replicas of the stream converge, and the cross-service check
 * passes after each.
 */
jest.setTimeout(180_000);

type Stack = Awaited<ReturnType<typeof startTestStack>>;

let toxiproxy: ToxiproxyHandle;
let cluster: NatsClusterHandle;
/** `${from}-${to}`: the proxy node `from` reaches node `to`'s route port through. */
const routes = new Map<string, ToxicProxy>();
let links: Record<ServiceName, ServiceLinks>;
let stack: Stack;

beforeAll(async () => {
  toxiproxy = await startToxiproxy();
  cluster = await startNatsCluster({
    nodes: 3,
    network: async (addresses) => {
      for (const [from] of addresses.entries()) {
        for (const [to, target] of addresses.entries()) {
          if (from !== to) routes.set(`${from}-${to}`, await toxiproxy.proxy(`route-${from}-${to}`, `127.0.0.1:${target.clusterPort}`));
        }
      }
      return { routeAddress: (from, to) => routes.get(`${from}-${to}`)!.listen, hideClientAddresses: true };
    },
  });
  links = await serviceLinks(
    toxiproxy,
    cluster.nodes.map((n) => hostOf(n.url)),
    new URL(process.env.TEST_MONGO_URL ?? '').host,
  );
  stack = await startTestStack({ natsCluster: cluster, links: stackLinks(links) });
});
afterEach(async () => {
  await crossServiceCheck(stack);
  await streamReplicasConverge();
}, 120_000);
afterAll(async () => {
  await stack?.stop();
  await cluster?.destroy();
  await toxiproxy?.stop();
});

const api = (method: string, path: string, body?: unknown) => stackApi(stack)(method, path, body);

/** Every node's replica of the event stream holds the same messages, up to the same sequence. */
async function streamReplicasConverge(): Promise<{ messages: number; lastSeq: number }> {
  const replicas = await waitFor(
    async () => {
      const found = await cluster.streamReplicas(DEFAULT_STREAM);
      const same =
        found.length === cluster.nodes.length && found.every((r) => r.lastSeq === found[0].lastSeq && r.messages === found[0].messages);
      return same ? found : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 250, what: 'the nodes’ replicas of the stream to converge' },
  );
  return { messages: replicas[0].messages, lastSeq: replicas[0].lastSeq };
}

/** Events the orders copy applied (not merely received), per subject. */
async function applied(): Promise<{ created: number; updated: number }> {
  const stats = await listenerStats(stack.orders[0]);
  return { created: stats[Subjects.TicketCreated].applied, updated: stats[Subjects.TicketUpdated].applied };
}

/** The index of the one node tickets' connection is on. */
async function ticketsNode(): Promise<number> {
  const [node] = await waitFor(() => cluster.nodesOf('tickets').then((n) => (n.length === 1 ? n : undefined)), {
    what: 'tickets’ connection to a node',
  });
  return cluster.nodes.indexOf(node);
}

/** Creates and then edits `count` tickets; every write must be accepted. */
async function writeTickets(prefix: string, count: number): Promise<{ id: string }[]> {
  const accepted: { id: string }[] = [];
  for (let i = 0; i < count; i++) {
    const created = await api('POST', '/api/tickets', { title: `${prefix}-${i}`, price: 5 });
    expect(created.status).toBe(201);
    expect((await api('PUT', `/api/tickets/${created.body.id}`, { title: `${prefix}-${i}`, price: 10 })).status).toBe(200);
    accepted.push(created.body);
  }
  return accepted;
}

async function replicated(tickets: { id: string }[]): Promise<boolean> {
  const replicas = await Promise.all(tickets.map((t) => api('GET', `/api/orders/tickets/${t.id}`)));
  return replicas.every((r) => r.status === 200 && r.body.version === 1 && r.body.price === 10);
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('network faults in a three-node JetStream cluster (Toxiproxy on every route and every service link)', () => {
  it('when every route and every service link has 200 ms of latency, then a stress run ends with 0 mismatches, each event applied once', async () => {
    const slowed = [...routes.values(), ...links.tickets.nats, ...links.orders.nats, links.tickets.mongo, links.orders.mongo];
    const toxics = await Promise.all(slowed.map(async (link) => [link, await link.addToxic('latency', { latency: 200 })] as const));
    const before = await applied();
    try {
      const summary = await runStress({ baseUrl: stack.url, token: stack.token, iterations: 20, convergeTimeoutMs: 90_000 });
      expect(summary.httpErrors).toEqual({});
      expect(summary.firstMismatches).toEqual([]);
      expect(summary.mismatches).toBe(0);
    } finally {
      for (const [link, toxic] of toxics) await link.removeToxic(toxic);
    }
    expect(await applied()).toEqual({ created: before.created + 20, updated: before.updated + 40 });
  });

  it('when the node tickets publishes through is cut off from its peers for 10 s (tickets still reaches it), then writes and an order are accepted, the events wait in the outbox, and once it rejoins every one is stored once and applied once', async () => {
    const held = (await api('POST', '/api/tickets', { title: 'ordered while isolated', price: 5 })).body;
    await waitFor(async () => (await api('GET', `/api/orders/tickets/${held.id}`)).status === 200, { timeoutMs: 30_000 });
    const { messages } = await streamReplicasConverge();
    const before = await applied();
    const isolated = await ticketsNode();
    const cut = [...routes.entries()].filter(([key]) => key.split('-').map(Number).includes(isolated)).map(([, proxy]) => proxy);
    expect(cut).toHaveLength(4);
    await Promise.all(cut.map((route) => route.disable()));
    let accepted: { id: string }[];
    let order: { id: string };
    try {
      accepted = await writeTickets('isolated', 5);
      const placed = await api('POST', '/api/orders', { ticketId: held.id });
      expect(placed.status).toBe(201);
      order = placed.body;
      // The node cannot reach a quorum: nothing it is given is stored, and tickets still uses it.
      expect(await ticketsOutbox(stack)).toBeGreaterThan(0);
      expect(await ticketsNode()).toBe(isolated);
      await pause(10_000); // the partition lasts 10 s
      expect(await replicated(accepted)).toBe(false);
    } finally {
      await Promise.all(cut.map((route) => route.enable()));
    }
    await waitFor(() => replicated(accepted), { timeoutMs: 90_000, intervalMs: 250, what: 'replicas to converge after the partition' });
    // The order placed meanwhile reserved its ticket in tickets, whose update reached the replica.
    await waitFor(async () => (await api('GET', `/api/tickets/${held.id}`)).body?.orderId === order.id, {
      timeoutMs: 60_000,
      intervalMs: 250,
      what: 'tickets to reserve the ticket for the order',
    });
    await waitFor(async () => (await api('GET', `/api/orders/tickets/${held.id}`)).body?.version === 1, {
      timeoutMs: 60_000,
      intervalMs: 250,
    });
    expect(await applied()).toEqual({ created: before.created + 5, updated: before.updated + 6 });
    // Every event stored exactly once on every node, despite the publications retried meanwhile:
    // 5 created, 5 updated, the order's, and the reservation's ticket update.
    await waitFor(async () => (await ticketsOutbox(stack)) === 0, { timeoutMs: 60_000, intervalMs: 250, what: 'tickets’ outbox to empty' });
    expect((await streamReplicasConverge()).messages).toBe(messages + 12);
  });

  it('when tickets’ link to the node it uses is cut for 10 s, then it moves to another node through its own links and its events flow during the cut', async () => {
    const before = await applied();
    const node = await ticketsNode();
    const link = links.tickets.nats[node];
    await link.disable();
    try {
      await waitFor(async () => (await ticketsNode()) !== node, {
        timeoutMs: 30_000,
        intervalMs: 100,
        what: 'tickets to move to another node',
      });
      const accepted = await writeTickets('moved', 5);
      await waitFor(() => replicated(accepted), { timeoutMs: 30_000, intervalMs: 250, what: 'replicas to converge during the cut' });
      await pause(10_000); // the partition lasts 10 s
    } finally {
      await link.enable();
    }
    expect(await applied()).toEqual({ created: before.created + 5, updated: before.updated + 5 });
  });
});
