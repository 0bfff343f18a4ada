import { Subjects } from '@ticketing/common';
import { waitFor } from '@ticketing/common/testing';
import request from 'supertest';
import { buildTicketEvent, newId, publishTicketEvent } from '../test-support/builders';
import { useHarness } from '../test-support/harness';

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
});
