import mongoose from 'mongoose';
import { Subjects } from '@ticketing/common';
import { waitFor, DEFAULT_STREAM } from '@ticketing/common/testing';
import { runStress, type StressSummary } from '../stress/run-stress';
import { crossServiceCheck, listenerStats, startTestStack, stackApi } from './stack-fixture';

/**
 * The production shape on one machine: the three-node JetStream cluster of infra/k8s/nats.yaml
 * (its config, its users), streams with three replicas, and the services as real processes, while
 * NATS nodes are killed and stopped. After each fault a cross-service check must pass.
 */
jest.setTimeout(180_000);

type Stack = Awaited<ReturnType<typeof startTestStack>>;

const ITERATIONS = 120;

async function startClusterStack(): Promise<Stack> {
  return startTestStack({ natsNodes: 3 });
}

/** Events the orders copies applied (not merely received) per subject, summed over the copies. */
async function appliedByOrders(stack: Stack): Promise<Record<string, number>> {
  const perCopy = await Promise.all(stack.orders.map(listenerStats));
  const sum = (subject: string) => perCopy.reduce((total, s) => total + s[subject].applied, 0);
  return { [Subjects.TicketCreated]: sum(Subjects.TicketCreated), [Subjects.TicketUpdated]: sum(Subjects.TicketUpdated) };
}

function expectCleanRun(summary: StressSummary): void {
  expect(summary.httpErrors).toEqual({});
  expect(summary.failedIterations).toBe(0);
  expect(summary.firstMismatches).toEqual([]);
  expect(summary.mismatches).toBe(0);
}

async function handledByOrders(stack: Stack): Promise<number> {
  return (await listenerStats(stack.orders[0]))[Subjects.TicketUpdated].handled;
}

describe('a three-node JetStream cluster under faults (real processes, the deployed NATS config)', () => {
  it('when the stream leader’s node is killed in the middle of a stress run and restarted, then 0 mismatches, nothing applied twice, and the cross-service check passes', async () => {
    const stack = await startClusterStack();
    try {
      const run = runStress({ baseUrl: stack.url, token: stack.token, iterations: ITERATIONS, convergeTimeoutMs: 90_000 });
      await waitFor(async () => (await handledByOrders(stack)) >= 10, { timeoutMs: 60_000, intervalMs: 10 });
      const leaderName = await waitFor(() => stack.natsCluster!.streamLeader(DEFAULT_STREAM), { what: 'the stream leader' });
      const leader = stack.natsCluster!.nodes.find((n) => n.name === leaderName)!;
      await leader.stop('SIGKILL');
      // Work goes on without it (a new leader is elected), then it comes back and catches up.
      const handled = await handledByOrders(stack);
      await waitFor(async () => (await handledByOrders(stack)) >= handled + 10, { timeoutMs: 60_000, intervalMs: 10 });
      await leader.start();
      const summary = await run;
      expectCleanRun(summary);
      expect(await appliedByOrders(stack)).toEqual({ [Subjects.TicketCreated]: ITERATIONS, [Subjects.TicketUpdated]: 2 * ITERATIONS });
      await crossServiceCheck(stack);
    } finally {
      await stack.stop();
    }
  });

  it('when one node stops for the rest of the run, then the cluster keeps quorum: 0 mismatches and the cross-service check passes', async () => {
    const stack = await startClusterStack();
    try {
      const run = runStress({ baseUrl: stack.url, token: stack.token, iterations: ITERATIONS, convergeTimeoutMs: 90_000 });
      await waitFor(async () => (await handledByOrders(stack)) >= 10, { timeoutMs: 60_000, intervalMs: 10 });
      // The node tickets publishes through: its connection drops in the middle of publications.
      const [stopped] = await waitFor(() => stack.natsCluster!.nodesOf('tickets').then((n) => (n.length > 0 ? n : undefined)));
      await stopped.stop();
      const summary = await run;
      expectCleanRun(summary);
      expect(await appliedByOrders(stack)).toEqual({ [Subjects.TicketCreated]: ITERATIONS, [Subjects.TicketUpdated]: 2 * ITERATIONS });
      expect(stopped.running()).toBe(false);
      await crossServiceCheck(stack);
    } finally {
      await stack.stop();
    }
  });

  it('when two of three nodes stop (quorum lost), then writes and an order are still accepted, their events wait in the outbox, and once the nodes return everything converges with nothing applied twice', async () => {
    const stack = await startClusterStack();
    const api = stackApi(stack);
    try {
      const before = (await api('POST', '/api/tickets', { title: 'before', price: 5 })).body!;
      await waitFor(async () => (await api('GET', `/api/orders/tickets/${before.id}`)).status === 200);

      const [, second, third] = stack.natsCluster!.nodes;
      await Promise.all([second.stop(), third.stop()]);
      const accepted: { id: string }[] = [];
      for (let i = 0; i < 10; i++) {
        const created = await api('POST', '/api/tickets', { title: `no-quorum-${i}`, price: 5 });
        expect(created.status).toBe(201);
        const updated = await api('PUT', `/api/tickets/${created.body!.id}`, { title: `no-quorum-${i}`, price: 10 });
        expect(updated.status).toBe(200);
        accepted.push(created.body!);
      }
      // An order placed now is stored too; its event waits in orders' outbox.
      const order = await api('POST', '/api/orders', { ticketId: before.id });
      expect(order.status).toBe(201);
      // Nothing can be stored on the bus without quorum: the events wait in the tickets outbox.
      const ticketsDb = await mongoose.createConnection(stack.tickets[0].options.env.MONGO_URL!).asPromise();
      try {
        const waiting = await ticketsDb.collection('tickets').countDocuments({ 'outbox.0': { $exists: true } });
        expect(waiting).toBeGreaterThan(0);
      } finally {
        await ticketsDb.close();
      }
      expect((await api('GET', `/api/orders/tickets/${accepted[0].id}`)).status).toBe(404);

      await Promise.all([second.start(), third.start()]);
      await waitFor(
        async () => {
          const replicas = await Promise.all(accepted.map((t) => api('GET', `/api/orders/tickets/${t.id}`)));
          return replicas.every((r) => r.status === 200 && r.body?.version === 1);
        },
        { timeoutMs: 90_000, intervalMs: 250, what: 'replicas to converge after quorum returns' },
      );
      // The order reserved its ticket in tickets, and that update reached the replica too.
      await waitFor(async () => (await api('GET', `/api/orders/tickets/${before.id}`)).body?.version === 1, {
        timeoutMs: 60_000,
        intervalMs: 250,
        what: 'the reservation to reach the replica',
      });
      expect(await appliedByOrders(stack)).toEqual({ [Subjects.TicketCreated]: 11, [Subjects.TicketUpdated]: 11 });
      expect((await crossServiceCheck(stack)).reserved).toBe(1);
    } finally {
      await stack.stop();
    }
  });
});
