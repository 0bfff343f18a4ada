import { Subjects } from '@ticketing/common';
import { waitFor } from '@ticketing/common/testing';
import { buildTicketEvent } from '../test-kit/builders';
import { publishTicketEvent } from '../test-kit/events';
import { startHarness, type Harness } from '../test-kit/harness';
import type { TicketCreatedListener } from './ticket-created.listener';
import type { TicketUpdatedListener } from './ticket-updated.listener';
import { Ticket } from './ticket-replica.model';

describe('ticket replica listeners (real nats-server and MongoDB-protocol server)', () => {
  let h: Harness;
  let created: TicketCreatedListener;
  let updated: TicketUpdatedListener;

  beforeAll(async () => {
    // listening, and sharing what they applied, as in the service
    h = await startHarness({ listeners: true });
    ({ ticketCreated: created, ticketUpdated: updated } = h.listeners);
  });
  afterAll(async () => {
    await h.close();
  });

  const replica = (id: string) => Ticket.findById(id).lean();
  const replicaAt = (id: string, version: number) =>
    waitFor(async () => (await replica(id))?.version === version, { what: `replica at v${version}` });

  it('when ticket:created arrives, then the replica has the source id, title, price and version', async () => {
    const event = buildTicketEvent({ title: 'opera', price: 45.5 });
    await publishTicketEvent(h.bus, Subjects.TicketCreated, event);
    const stored = await waitFor(() => replica(event.id));
    expect(stored).toMatchObject({ title: 'opera', price: 45.5, version: 0 });
    expect(String(stored._id)).toBe(event.id);
  });

  it('when ticket:created is delivered again after an update, then it is acknowledged and changes nothing', async () => {
    const v0 = buildTicketEvent({ title: 'jazz', price: 10 });
    await publishTicketEvent(h.bus, Subjects.TicketCreated, v0);
    await waitFor(() => replica(v0.id));
    await publishTicketEvent(h.bus, Subjects.TicketUpdated, { ...v0, version: 1, price: 12 });
    await replicaAt(v0.id, 1);
    const before = { ...created.stats };

    await publishTicketEvent(h.bus, Subjects.TicketCreated, v0, 'redelivered-create-' + v0.id);

    await waitFor(() => created.stats.handled === before.handled + 1);
    expect(created.stats.retried).toBe(before.retried);
    expect(await replica(v0.id)).toMatchObject({ title: 'jazz', price: 12, version: 1 });
  });

  it('when ticket:updated v1 follows v0, then it is applied and the version equals the source (not incremented again)', async () => {
    const v0 = buildTicketEvent({ price: 10 });
    await publishTicketEvent(h.bus, Subjects.TicketCreated, v0);
    await publishTicketEvent(h.bus, Subjects.TicketUpdated, { ...v0, version: 1, title: 'renamed', price: 11 });
    await replicaAt(v0.id, 1);
    expect(await replica(v0.id)).toMatchObject({ title: 'renamed', price: 11, version: 1 });
  });

  it('when an older ticket:updated arrives after a newer one was applied, then it is acknowledged and changes nothing', async () => {
    const v0 = buildTicketEvent({ price: 10 });
    await publishTicketEvent(h.bus, Subjects.TicketCreated, v0);
    await publishTicketEvent(h.bus, Subjects.TicketUpdated, { ...v0, version: 1, price: 11 });
    await publishTicketEvent(h.bus, Subjects.TicketUpdated, { ...v0, version: 2, price: 12 });
    await replicaAt(v0.id, 2);
    const before = { ...updated.stats };

    await publishTicketEvent(h.bus, Subjects.TicketUpdated, { ...v0, version: 1, price: 11 }, 'late-duplicate-' + v0.id);

    await waitFor(() => updated.stats.handled === before.handled + 1);
    expect(updated.stats.retried).toBe(before.retried);
    expect(await replica(v0.id)).toMatchObject({ price: 12, version: 2 });
  });

  it('when ticket:updated v2 arrives before v1, then it is not acknowledged but retried, and applied once v1 is in', async () => {
    const v0 = buildTicketEvent({ price: 10 });
    await publishTicketEvent(h.bus, Subjects.TicketCreated, v0);
    await replicaAt(v0.id, 0);
    const retriedBefore = updated.stats.retried;

    await publishTicketEvent(h.bus, Subjects.TicketUpdated, { ...v0, version: 2, price: 30 });
    await waitFor(() => updated.stats.retried >= retriedBefore + 2, { what: 'v2 to be handed back at least twice' });
    expect(await replica(v0.id)).toMatchObject({ price: 10, version: 0 });

    await publishTicketEvent(h.bus, Subjects.TicketUpdated, { ...v0, version: 1, price: 20 });
    await replicaAt(v0.id, 2);
    expect(await replica(v0.id)).toMatchObject({ price: 30, version: 2 });
  });

  it('when ticket:updated arrives before the ticket exists here, then it is retried and applied after ticket:created', async () => {
    const v0 = buildTicketEvent({ price: 10 });
    const retriedBefore = updated.stats.retried;
    await publishTicketEvent(h.bus, Subjects.TicketUpdated, { ...v0, version: 1, price: 15 });
    await waitFor(() => updated.stats.retried > retriedBefore);
    expect(await replica(v0.id)).toBeNull();

    await publishTicketEvent(h.bus, Subjects.TicketCreated, v0);
    await replicaAt(v0.id, 1);
    expect(await replica(v0.id)).toMatchObject({ price: 15, version: 1 });
  });

  it('when duplicates of several versions arrive all at once, then every replica ends at its newest version, never moved back', async () => {
    const tickets = Array.from({ length: 10 }, () => buildTicketEvent({ price: 1 }));
    await Promise.all(tickets.map((t) => publishTicketEvent(h.bus, Subjects.TicketCreated, t)));
    await Promise.all(tickets.map((t) => replicaAt(t.id, 0)));
    const versions = [1, 2, 3, 4, 5, 6];
    await Promise.all(
      tickets.flatMap((t) =>
        versions.flatMap((version) =>
          [0, 1, 2, 3].map((copy) =>
            publishTicketEvent(h.bus, Subjects.TicketUpdated, { ...t, version, price: version * 10 }, `burst-${t.id}-${version}-${copy}`),
          ),
        ),
      ),
    );
    const handledBefore = updated.stats.handled;
    await waitFor(() => updated.stats.handled >= handledBefore + tickets.length * versions.length * 4, {
      timeoutMs: 20_000,
      what: 'every delivery handled',
    });
    for (const t of tickets) expect(await replica(t.id)).toMatchObject({ price: 60, version: 6 });
  });

  it('when the next versions of tickets this copy replicated arrive together, then they go in bulk writes, each applied once, in order', async () => {
    const tickets = Array.from({ length: 20 }, () => buildTicketEvent({ price: 1 }));
    await Promise.all(tickets.map((t) => publishTicketEvent(h.bus, Subjects.TicketCreated, t)));
    await Promise.all(tickets.map((t) => replicaAt(t.id, 0)));
    await Promise.all(tickets.map((t) => publishTicketEvent(h.bus, Subjects.TicketUpdated, { ...t, version: 1, price: 10 })));
    await Promise.all(tickets.map((t) => replicaAt(t.id, 1)));
    const before = { ...updated.stats };
    const bulkBefore = { ...updated.bulk };

    for (const version of [2, 3, 4]) {
      await Promise.all(tickets.map((t) => publishTicketEvent(h.bus, Subjects.TicketUpdated, { ...t, version, price: version * 10 })));
    }

    await Promise.all(tickets.map((t) => replicaAt(t.id, 4)));
    for (const t of tickets) expect(await replica(t.id)).toMatchObject({ price: 40, version: 4 });
    await waitFor(() => updated.stats.handled === before.handled + 60);
    expect(updated.stats.applied - before.applied).toBe(60);
    expect(updated.stats.duplicates).toBe(before.duplicates);
    expect(updated.bulk.events - bulkBefore.events).toBeGreaterThan(0);
    expect(updated.bulk.writes - bulkBefore.writes).toBeLessThan(updated.bulk.events - bulkBefore.events);
    expect(updated.bulk.fellBack).toBe(bulkBefore.fellBack);
  });

  it('when creates arrive together, then they go in shared inserts, each applied once, and a create delivered again is a duplicate', async () => {
    const tickets = Array.from({ length: 40 }, (_, i) => buildTicketEvent({ title: `together-${i}`, price: i + 1 }));
    const before = { ...created.stats };
    const bulkBefore = { ...created.bulk };
    await Promise.all(tickets.map((t) => publishTicketEvent(h.bus, Subjects.TicketCreated, t)));
    await Promise.all(tickets.slice(0, 5).map((t) => publishTicketEvent(h.bus, Subjects.TicketCreated, t, `again-${t.id}`)));
    await waitFor(() => created.stats.handled === before.handled + 45, { what: 'every create handled' });
    expect(created.stats.applied - before.applied).toBe(40);
    expect(created.stats.duplicates - before.duplicates).toBe(5);
    expect(created.stats.retried).toBe(before.retried);
    expect(created.bulk.events - bulkBefore.events).toBeGreaterThan(0);
    expect(created.bulk.writes - bulkBefore.writes).toBeLessThan(created.bulk.events - bulkBefore.events);
    for (const t of tickets) expect(await replica(t.id)).toMatchObject({ title: t.title, price: t.price, version: 0 });
  });

  it('when the first updates of tickets this copy just created arrive together, then they go in bulk writes too', async () => {
    const tickets = Array.from({ length: 20 }, () => buildTicketEvent({ price: 1 }));
    await Promise.all(tickets.map((t) => publishTicketEvent(h.bus, Subjects.TicketCreated, t)));
    await Promise.all(tickets.map((t) => replicaAt(t.id, 0)));
    const bulkBefore = { ...updated.bulk };
    await Promise.all(tickets.map((t) => publishTicketEvent(h.bus, Subjects.TicketUpdated, { ...t, version: 1, price: 2 })));
    await Promise.all(tickets.map((t) => replicaAt(t.id, 1)));
    expect(updated.bulk.events - bulkBefore.events).toBeGreaterThan(0);
    expect(updated.bulk.fellBack).toBe(bulkBefore.fellBack);
  });

  it('when all is applied, then nothing is left unacknowledged on either durable consumer', async () => {
    for (const durable of ['orders-service__ticket_created', 'orders-service__ticket_updated']) {
      await waitFor(
        async () => {
          const info = await h.bus.manager.consumers.info(h.bus.streamName, durable);
          return info.num_pending === 0 && info.num_ack_pending === 0;
        },
        { what: `${durable} drained` },
      );
    }
  });
});
