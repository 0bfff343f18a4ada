import { authHeader, testToken, newId } from '@ticketing/common/testing';
import request from 'supertest';
import { givenTicket } from '../test-kit/builders';
import { useHarness } from '../test-kit/harness';

describe('GET /api/orders and GET /api/orders/:id (real MongoDB-protocol server)', () => {
  const h = useHarness();

  const placeOrder = async (token: string, ticket: { price?: number; title?: string } = {}) => {
    const t = await givenTicket(ticket);
    const res = await request(h.app).post('/api/orders').set(authHeader(token)).send({ ticketId: t.id }).expect(201);
    return res.body;
  };

  it('when a user lists their orders, then they get only theirs, with their tickets, newest first', async () => {
    const me = testToken({ id: 'lister' });
    const first = await placeOrder(me, { title: 'first', price: 1 });
    const second = await placeOrder(me, { title: 'second', price: 2 });
    await placeOrder(testToken({ id: 'someone-else' }));

    const res = await request(h.app).get('/api/orders').set(authHeader(me)).expect(200);

    expect(res.body).toEqual([second, first]);
    expect(res.body.map((o: { ticket: { title: string } }) => o.ticket.title)).toEqual(['second', 'first']);
  });

  it('when a user has more orders than a page, then `limit` of the newest, and `before` the last of them gives the next ones, until none are left', async () => {
    const me = testToken({ id: 'pager' });
    const placed = [];
    for (let i = 0; i < 5; i++) placed.push(await placeOrder(me, { title: `paged ${i}` }));
    const newestFirst = placed.reverse().map((o) => o.id);
    const page = async (query: string) =>
      (await request(h.app).get(`/api/orders${query}`).set(authHeader(me)).expect(200)).body.map((o: { id: string }) => o.id);

    expect(await page('')).toEqual(newestFirst);
    expect(await page('?limit=2')).toEqual(newestFirst.slice(0, 2));
    expect(await page(`?limit=2&before=${newestFirst[1]}`)).toEqual(newestFirst.slice(2, 4));
    expect(await page(`?limit=2&before=${newestFirst[3]}`)).toEqual(newestFirst.slice(4));
    expect(await page(`?before=${newestFirst[4]}`)).toEqual([]);
  });

  it('when limit or before is not valid, or before names an order not the caller’s, then 400 naming the field', async () => {
    const me = testToken();
    const theirs = await placeOrder(testToken());
    for (const [query, field] of [
      ['?limit=0', 'limit'],
      ['?limit=101', 'limit'],
      ['?limit=ten', 'limit'],
      ['?limit=1&limit=2', 'limit'],
      ['?before=nope', 'before'],
      [`?before=${theirs.id}`, 'before'],
      ['?userId=someone', 'userId'],
    ]) {
      const res = await request(h.app).get(`/api/orders${query}`).set(authHeader(me)).expect(400);
      expect(res.body.errors).toEqual([{ message: expect.any(String), field }]);
    }
  });

  it('when a user with no orders lists them, then an empty list', async () => {
    const res = await request(h.app).get('/api/orders').set(authHeader(testToken())).expect(200);
    expect(res.body).toEqual([]);
  });

  it('when a user fetches one of their orders, then 200 with it and its ticket', async () => {
    const me = testToken();
    const placed = await placeOrder(me, { title: 'recital', price: 30 });
    const res = await request(h.app).get(`/api/orders/${placed.id}`).set(authHeader(me)).expect(200);
    expect(res.body).toEqual(placed);
    expect(res.body.ticket).toEqual({ id: placed.ticket.id, title: 'recital', price: 30 });
    for (const internal of ['_id', '__v', 'outbox']) expect(res.body).not.toHaveProperty(internal);
  });

  it('when a user fetches someone else’s order, then 404 exactly as for an unknown id, and nothing of it is shown', async () => {
    const placed = await placeOrder(testToken());
    const res = await request(h.app).get(`/api/orders/${placed.id}`).set(authHeader(testToken())).expect(404);
    expect(res.body).toEqual({ code: 'not_found', errors: [{ message: 'Order not found' }] });
  });

  it.each([
    ['does not exist', newId()],
    ['is malformed', 'not-an-id'],
    ['is 12 characters (which mongoose would take for an id)', 'aaaaaaaaaaaa'],
  ])('when the order id %s, then 404', async (_what, id) => {
    const res = await request(h.app).get(`/api/orders/${id}`).set(authHeader(testToken())).expect(404);
    expect(res.body.errors).toEqual([{ message: 'Order not found' }]);
  });

  it('when not signed in, then listing and fetching are 401', async () => {
    await request(h.app).get('/api/orders').expect(401);
    await request(h.app).get(`/api/orders/${newId()}`).expect(401);
  });

  it.each(['%%%', Buffer.from('{"jwt":{"$ne":null}}').toString('base64'), Buffer.from('null').toString('base64')])(
    'when the session cookie is garbage (%s), then listing is 401 (signed out), not a 500',
    async (value) => {
      const res = await request(h.app).get('/api/orders').set('Cookie', `session=${value}`);
      expect(res.status).toBe(401);
      expect(res.body.errors).toEqual([{ message: 'Not signed in' }]);
    },
  );
});
