import { Subjects } from '@ticketing/common';
import { waitFor, newId } from '@ticketing/common/testing';
import request from 'supertest';
import { buildTicketEvent } from '../test-kit/builders';
import { publishTicketEvent } from '../test-kit/events';
import { useHarness } from '../test-kit/harness';
import { MAX_REPLICA_IDS } from './show-ticket-replica.route';

describe('GET /api/orders/tickets/:id, the replica read path (real nats-server and MongoDB-protocol server)', () => {
  const h = useHarness({ listeners: true });

  const replica = (id: string) => request(h.app).get(`/api/orders/tickets/${id}`);

  it('when the tickets service created and updated a ticket, then the replica shows its id, title, price and version as the source has them', async () => {
    const source = buildTicketEvent({ title: 'ballet', price: 25 });
    await publishTicketEvent(h.bus, Subjects.TicketCreated, source);
    // (taken before the publication: the replica may apply it before the publisher hears the ack)
    const publishing = Date.now();
    await publishTicketEvent(h.bus, Subjects.TicketUpdated, { ...source, version: 1, title: 'ballet (matinee)', price: 30 });

    const res = await waitFor(async () => {
      const r = await replica(source.id);
      return r.status === 200 && r.body.version === 1 ? r : null;
    });

    expect(res.body).toEqual({ id: source.id, title: 'ballet (matinee)', price: 30, version: 1, replicatedAt: expect.any(String) });
    // when this version was applied here: what replication lag is measured against
    const appliedAt = Date.parse(res.body.replicatedAt);
    expect(appliedAt).toBeGreaterThanOrEqual(publishing);
    expect(appliedAt).toBeLessThanOrEqual(Date.now());
  });

  it('when orders has not seen the ticket, then 404', async () => {
    const res = await replica(newId()).expect(404);
    expect(res.body.errors).toEqual([{ message: 'Ticket not replicated here' }]);
  });

  it('when the id is malformed, then 404 and not 500', async () => {
    await replica('nope').expect(404);
    await replica('%7B%22%24ne%22%3Anull%7D').expect(404);
  });

  it('when read without signing in, then it is still served: it is the comparison path for scripts and operators', async () => {
    const source = buildTicketEvent();
    await publishTicketEvent(h.bus, Subjects.TicketCreated, source);
    await waitFor(async () => (await replica(source.id)).status === 200);
  });

  describe('GET /api/orders/tickets?ids=…, many replicas in one read', () => {
    const many = (query: string) => request(h.app).get(`/api/orders/tickets?${query}`);

    it('when some of the named tickets are replicated, then it answers those, as the one-ticket path shows them, and leaves out the others', async () => {
      const sources = [buildTicketEvent({ title: 'a', price: 1 }), buildTicketEvent({ title: 'b', price: 2 })];
      await Promise.all(sources.map((s) => publishTicketEvent(h.bus, Subjects.TicketCreated, s)));
      const ids = [...sources.map((s) => s.id), newId()];
      const res = await waitFor(async () => {
        const r = await many(`ids=${ids.join(',')}`);
        return r.status === 200 && r.body.tickets.length === 2 ? r : null;
      });
      const singles = await Promise.all(sources.map((s) => replica(s.id).expect(200)));
      expect([...res.body.tickets].sort((x: { title: string }, y: { title: string }) => x.title.localeCompare(y.title))).toEqual(
        singles.map((r) => r.body),
      );
      expect(Object.keys(res.body)).toEqual(['tickets']);
    });

    it('when an id is named twice, then its replica is answered once', async () => {
      const source = buildTicketEvent();
      await publishTicketEvent(h.bus, Subjects.TicketCreated, source);
      await waitFor(async () => (await replica(source.id)).status === 200);
      const res = await many(`ids=${source.id},${source.id}`).expect(200);
      expect(res.body.tickets.map((t: { id: string }) => t.id)).toEqual([source.id]);
    });

    it(`when up to ${MAX_REPLICA_IDS} ids are named, then they are read; one more is a 400 naming ids`, async () => {
      const ids = Array.from({ length: MAX_REPLICA_IDS + 1 }, () => newId());
      await many(`ids=${ids.slice(0, MAX_REPLICA_IDS).join(',')}`).expect(200, { tickets: [] });
      const res = await many(`ids=${ids.join(',')}`).expect(400);
      expect(res.body.errors).toEqual([{ message: `ids may list at most ${MAX_REPLICA_IDS} ticket ids`, field: 'ids' }]);
    });

    it.each([
      ['no ids', '', 'ids'],
      ['an empty ids', 'ids=', 'ids'],
      ['a malformed id', `ids=${'a'.repeat(24)},nope`, 'ids'],
      ['an empty item', 'ids=,', 'ids'],
      ['an operator', 'ids[$ne]=x', 'ids[$ne]'],
      ['ids given twice', `ids=${'a'.repeat(24)}&ids=${'b'.repeat(24)}`, 'ids'],
      ['another parameter', `ids=${'a'.repeat(24)}&limit=5`, 'limit'],
    ])('when the query has %s, then 400 with a JSON error naming the field, never a 500', async (_what, query, field) => {
      const res = await many(query).expect(400);
      expect(res.body.errors).toEqual([{ message: expect.any(String), field }]);
    });
  });
});
