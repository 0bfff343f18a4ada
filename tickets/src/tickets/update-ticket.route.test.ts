import request from 'supertest';
import type { Express } from 'express';
import { silentLogger, Subjects } from '@ticketing/common';
import { authHeader, TEST_JWT_KEY, testToken, newId } from '@ticketing/common/testing';
import { createApp } from '../app';
import { useHarness } from '../test-kit/harness';
import { buildTicket, ticketBody } from '../test-kit/builders';
import { publishedTicketEvents } from '../test-kit/events';
import { Ticket } from './ticket.model';
import { ticketView } from './ticket-view';

describe('PUT /api/tickets/:id', () => {
  const t = useHarness();
  const owner = { id: 'owner-1' };
  const ownerToken = testToken(owner);
  const put = (id: string, body: object, token: string | null = ownerToken) => {
    const req = request(t.app).put(`/api/tickets/${id}`);
    return (token ? req.set(authHeader(token)) : req).send(body);
  };
  const givenTicket = (attrs: { title?: string; price?: number } = {}) => buildTicket({ userId: owner.id, ...attrs }, t.relay);

  it('when the owner sends a valid change, then it is 200 with version 1, stored, and ticket:updated (version 1) is published', async () => {
    const ticket = await givenTicket({ title: 'Concert', price: 20 });

    const res = await put(ticket.id, { title: 'Concert (front row)', price: 35.5 });

    expect(res.status).toBe(200);
    expect(res.body).toEqual({ id: ticket.id, title: 'Concert (front row)', price: 35.5, userId: owner.id, version: 1 });
    expect(res.headers.etag).toBe('"1"');
    expect(ticketView(await Ticket.findById(ticket.id).orFail())).toEqual(res.body);
    const events = await publishedTicketEvents(t.bus, ticket.id);
    expect(events.map((e) => [e.subject, e.data])).toEqual([
      [Subjects.TicketCreated, { id: ticket.id, version: 0, title: 'Concert', price: 20, userId: owner.id }],
      [Subjects.TicketUpdated, { id: ticket.id, version: 1, title: 'Concert (front row)', price: 35.5, userId: owner.id }],
    ]);
  });

  it('when the owner edits twice, then versions go 1 then 2 and each edit publishes its own event', async () => {
    const ticket = await givenTicket();
    expect((await put(ticket.id, ticketBody({ price: 21 }))).body.version).toBe(1);
    expect((await put(ticket.id, ticketBody({ price: 22 }))).body.version).toBe(2);
    const events = await publishedTicketEvents(t.bus, ticket.id);
    expect(events.map((e) => [e.data.version, e.data.price])).toEqual([
      [0, 20],
      [1, 21],
      [2, 22],
    ]);
  });

  it('when nobody is signed in, then it is 401 and the ticket is unchanged', async () => {
    const ticket = await givenTicket();
    const res = await put(ticket.id, ticketBody({ price: 99 }), null);
    expect(res.status).toBe(401);
    await expectUnchanged(ticket.id);
  });

  it('when another user edits, then it is 403 and the ticket is unchanged', async () => {
    const ticket = await givenTicket();
    const res = await put(ticket.id, ticketBody({ price: 99 }), testToken({ id: 'intruder' }));
    expect(res.status).toBe(403);
    expect(res.body.errors).toEqual([{ message: 'Only the owner can edit this ticket' }]);
    await expectUnchanged(ticket.id);
  });

  it.each([newId(), 'not-an-id'])('when the ticket does not exist (%s), then it is 404', async (id) => {
    const res = await put(id, ticketBody());
    expect(res.status).toBe(404);
  });

  it.each([
    [{ title: '' }, 'title'],
    [{ price: -1 }, 'price'],
    [{ price: '5' }, 'price'],
    [{ price: { $gt: 0 } }, 'price'],
    [{ price: 1.234 }, 'price'],
  ])('when the body is invalid (%j), then it is 400 naming %s and the ticket is unchanged', async (overrides, field) => {
    const ticket = await givenTicket();
    const res = await put(ticket.id, ticketBody(overrides));
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([expect.objectContaining({ field })]);
    await expectUnchanged(ticket.id);
  });

  it.each([
    ['a lone surrogate', String.raw`Concert \uD800`, 'Title must be valid Unicode text (it has a lone surrogate)'],
    ['only a zero-width space', String.raw`\u200B`, 'Title must have a visible character'],
  ])(
    'when the new title has %s (as a JSON escape), then it is 400 naming title and the ticket is unchanged',
    async (_case, escaped, message) => {
      const ticket = await givenTicket();
      const res = await request(t.app)
        .put(`/api/tickets/${ticket.id}`)
        .set(authHeader(ownerToken))
        .set('Content-Type', 'application/json')
        .send(`{"title":"${escaped}","price":20}`);
      expect(res.status).toBe(400);
      expect(res.body.errors).toEqual([{ field: 'title', message }]);
      await expectUnchanged(ticket.id);
    },
  );

  it('when the ticket is reserved by an order, then it is 400 with a clear message and nothing changes', async () => {
    const ticket = await givenTicket();
    const orderId = newId();
    await (await Ticket.findById(ticket.id).orFail()).set({ orderId }).save(); // reserved (event left out: not this test's subject)

    const res = await put(ticket.id, ticketBody({ price: 99 }));

    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([{ message: 'The ticket is reserved by an order and cannot be edited' }]);
    const stored = await Ticket.findById(ticket.id).orFail();
    expect(stored).toMatchObject({ price: 20, orderId, version: 1 });
    expect((await publishedTicketEvents(t.bus, ticket.id)).map((e) => e.subject)).toEqual([Subjects.TicketCreated]);
  });

  describe('optimistic concurrency', () => {
    it('when If-Match carries the current version, then the edit applies', async () => {
      const ticket = await givenTicket();
      const res = await put(ticket.id, ticketBody({ price: 30 })).set('If-Match', '"0"');
      expect(res.status).toBe(200);
      expect(res.body.version).toBe(1);
    });

    it('when If-Match carries a stale version, then it is 409, nothing is stored and no event is published', async () => {
      const ticket = await givenTicket();
      await put(ticket.id, ticketBody({ price: 30 })); // someone else's edit: now at version 1

      const res = await put(ticket.id, ticketBody({ price: 40 })).set('If-Match', '"0"');

      expect(res.status).toBe(409);
      expect(res.body.errors).toEqual([{ message: 'The ticket is at version 1, not 0: reload it and retry' }]);
      expect(await Ticket.findById(ticket.id).orFail()).toMatchObject({ price: 30, version: 1 });
      expect((await publishedTicketEvents(t.bus, ticket.id)).map((e) => e.data.price)).toEqual([20, 30]);
    });

    it('when the body carries a stale version, then it is 409 and nothing changes', async () => {
      const ticket = await givenTicket();
      await put(ticket.id, ticketBody({ price: 30 }));

      const res = await put(ticket.id, { ...ticketBody({ price: 40 }), version: 0 });

      expect(res.status).toBe(409);
      expect(await Ticket.findById(ticket.id).orFail()).toMatchObject({ price: 30, version: 1 });
      expect((await publishedTicketEvents(t.bus, ticket.id)).map((e) => e.data.version)).toEqual([0, 1]);
    });

    it('when the body carries the current version, then the edit applies', async () => {
      const ticket = await givenTicket();
      const res = await put(ticket.id, { ...ticketBody({ price: 30 }), version: 0 });
      expect(res.status).toBe(200);
    });

    it.each([
      ['If-Match: "abc"', { 'If-Match': '"abc"' }, {}],
      ['version: "0"', {}, { version: '0' }],
      ['version: -1', {}, { version: -1 }],
      ['If-Match and version disagreeing', { 'If-Match': '"0"' }, { version: 1 }],
    ])('when the expected version is malformed (%s), then it is 400 and nothing changes', async (_case, headers, extra) => {
      const ticket = await givenTicket();
      const res = await put(ticket.id, { ...ticketBody({ price: 30 }), ...extra }).set(headers);
      expect(res.status).toBe(400);
      await expectUnchanged(ticket.id);
    });

    it('when two copies of a ticket are edited from the same version at once, then one wins and the other gets 409', async () => {
      const ticket = await givenTicket();
      const [a, b] = await Promise.all([
        put(ticket.id, ticketBody({ title: 'A' })).set('If-Match', '"0"'),
        put(ticket.id, ticketBody({ title: 'B' })).set('If-Match', '"0"'),
      ]);
      expect([a.status, b.status].sort()).toEqual([200, 409]);
      const winner = a.status === 200 ? a : b;
      expect(await Ticket.findById(ticket.id).orFail()).toMatchObject({ title: winner.body.title, version: 1 });
      const events = await publishedTicketEvents(t.bus, ticket.id);
      expect(events.map((e) => [e.data.version, e.data.title])).toEqual([
        [0, 'Concert'],
        [1, winner.body.title],
      ]);
    });

    it('when many edits without a version race, then none is lost silently: each 200 has its own version and event, the rest are 409', async () => {
      const ticket = await givenTicket();
      const titles = Array.from({ length: 8 }, (_, i) => `edit-${i}`);

      const responses = await Promise.all(titles.map((title) => put(ticket.id, ticketBody({ title }))));

      expect(responses.every((r) => r.status === 200 || r.status === 409)).toBe(true);
      const applied = responses.filter((r) => r.status === 200).map((r) => r.body);
      expect(applied.length).toBeGreaterThanOrEqual(1);
      const versions = applied.map((r) => r.version).sort((x, y) => x - y);
      expect(versions).toEqual(Array.from({ length: applied.length }, (_, i) => i + 1));

      const updates = (await publishedTicketEvents(t.bus, ticket.id)).filter((e) => e.subject === Subjects.TicketUpdated);
      // every successful answer is exactly one published event, with the same version and title
      expect(updates.map((e) => e.data).sort((x, y) => x.version - y.version)).toEqual(
        applied
          .map(({ id, version, title, price, userId }) => ({ id, version, title, price, userId }))
          .sort((x, y) => x.version - y.version),
      );
      const last = applied.find((r) => r.version === applied.length);
      expect(await Ticket.findById(ticket.id).orFail()).toMatchObject({ title: last.title, version: applied.length });
    });

    it('when a reservation lands between loading and saving an edit, then the edit gets 409, the reservation stands and no edit event is published', async () => {
      const ticket = await givenTicket();
      const orderId = newId();
      // The reservation is stored just before the edit's conditional write reaches the database.
      const write = Ticket.collection.updateOne.bind(Ticket.collection);
      jest.spyOn(Ticket.collection, 'updateOne').mockImplementationOnce(((...args: Parameters<typeof write>) =>
        Ticket.findById(ticket.id)
          .orFail()
          .then((t) => t.set({ orderId }).save())
          .then(() => write(...args))) as unknown as typeof write);

      const res = await put(ticket.id, ticketBody({ price: 99 }));

      expect(res.status).toBe(409);
      expect(res.body.errors[0].message).toMatch(/changed by someone else/);
      expect(await Ticket.findById(ticket.id).orFail()).toMatchObject({ orderId, price: 20, version: 1 });
      expect((await publishedTicketEvents(t.bus, ticket.id)).map((e) => e.data.version)).toEqual([0]);
    });
  });

  describe('an edit that starts from the ticket as this copy last wrote it (no read)', () => {
    const create = async () => (await request(t.app).post('/api/tickets').set(authHeader(ownerToken)).send(ticketBody())).body;
    // another copy of the service: the same database and bus, its own memory of what it wrote
    const otherCopy = () => createApp({ jwtKey: TEST_JWT_KEY, relay: t.relay, logger: silentLogger, readiness: {} });
    const putVia = (app: Express, id: string, body: object) =>
      request(app).put(`/api/tickets/${id}`).set(authHeader(ownerToken)).send(body);
    const prices = async (id: string) => (await publishedTicketEvents(t.bus, id)).map((e) => [e.data.version, e.data.price]);

    it('when this copy created the ticket, then its edits read nothing and still apply in version order', async () => {
      const ticket = await create();
      const reads = jest.spyOn(Ticket, 'findById');

      const first = await put(ticket.id, ticketBody({ price: 10 }));
      const second = await put(ticket.id, ticketBody({ price: 15 }));

      expect(reads).not.toHaveBeenCalled();
      reads.mockRestore();
      expect([first.status, first.body.version, second.status, second.body.version]).toEqual([200, 1, 200, 2]);
      expect(await Ticket.findById(ticket.id).orFail()).toMatchObject({ price: 15, version: 2 });
      expect(await prices(ticket.id)).toEqual([
        [0, 20],
        [1, 10],
        [2, 15],
      ]);
    });

    it('when another copy edited the ticket since, then the edit applies on top of that one: nothing is lost or reordered', async () => {
      const ticket = await create();
      expect((await putVia(otherCopy(), ticket.id, ticketBody({ price: 30 }))).body.version).toBe(1);

      const res = await put(ticket.id, ticketBody({ price: 40 }));

      expect([res.status, res.body.version, res.body.price]).toEqual([200, 2, 40]);
      expect(await Ticket.findById(ticket.id).orFail()).toMatchObject({ price: 40, version: 2 });
      expect(await prices(ticket.id)).toEqual([
        [0, 20],
        [1, 30],
        [2, 40],
      ]);
    });

    it('when If-Match names a version only another copy has seen, then the edit is judged on the stored ticket', async () => {
      const ticket = await create();
      await putVia(otherCopy(), ticket.id, ticketBody({ price: 30 }));

      const current = await put(ticket.id, ticketBody({ price: 40 })).set('If-Match', '"1"');
      const stale = await put(ticket.id, ticketBody({ price: 50 })).set('If-Match', '"1"');

      expect([current.status, current.body.version]).toEqual([200, 2]);
      expect(stale.status).toBe(409);
      expect(stale.body.errors).toEqual([{ message: 'The ticket is at version 2, not 1: reload it and retry' }]);
      expect(await Ticket.findById(ticket.id).orFail()).toMatchObject({ price: 40, version: 2 });
    });

    it('when someone other than the owner edits a ticket this copy wrote, then it is 403 and nothing changes', async () => {
      const ticket = await create();

      const res = await put(ticket.id, ticketBody({ price: 99 }), testToken({ id: 'someone-else' }));

      expect(res.status).toBe(403);
      expect(await Ticket.findById(ticket.id).orFail()).toMatchObject({ price: 20, userId: owner.id, version: 0 });
    });

    it('when an order reserved the ticket since this copy wrote it, then the edit is refused (400) and nothing changes', async () => {
      const ticket = await create();
      const orderId = newId();
      await (await Ticket.findById(ticket.id).orFail()).set({ orderId }).save();

      const res = await put(ticket.id, ticketBody({ price: 99 }));

      expect(res.status).toBe(400);
      expect(res.body.errors).toEqual([{ message: 'The ticket is reserved by an order and cannot be edited' }]);
      expect(await Ticket.findById(ticket.id).orFail()).toMatchObject({ price: 20, orderId, version: 1 });
    });

    it('when many edits race from the same remembered version, then one applies per version and the rest are 409', async () => {
      const ticket = await create();

      const responses = await Promise.all(Array.from({ length: 6 }, (_, i) => put(ticket.id, ticketBody({ price: 100 + i }))));

      expect(responses.every((r) => r.status === 200 || r.status === 409)).toBe(true);
      const applied = responses.filter((r) => r.status === 200).map((r) => [r.body.version, r.body.price]);
      expect(applied.map(([version]) => version).sort()).toEqual(Array.from({ length: applied.length }, (_, i) => i + 1));
      expect((await prices(ticket.id)).slice(1).sort()).toEqual(applied.sort());
    });
  });

  async function expectUnchanged(id: string) {
    expect(await Ticket.findById(id).orFail()).toMatchObject({ title: 'Concert', price: 20, version: 0 });
    expect((await publishedTicketEvents(t.bus, id)).map((e) => e.data.version)).toEqual([0]);
  }
});
