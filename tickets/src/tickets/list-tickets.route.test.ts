import request from 'supertest';
import { useHarness } from '../test-kit/harness';
import { newId } from '@ticketing/common/testing';
import { buildTicket } from '../test-kit/builders';
import { Ticket } from './ticket.model';
import { ticketView } from './ticket-view';

describe('GET /api/tickets', () => {
  const t = useHarness();

  beforeEach(async () => {
    await Ticket.deleteMany({});
  });

  it('when some tickets are reserved, then only the free ones are listed, newest first', async () => {
    const oldest = await buildTicket({ title: 'oldest' });
    const reserved = await buildTicket({ title: 'reserved' });
    const newest = await buildTicket({ title: 'newest' });
    await reserved.set({ orderId: newId() }).save();

    const res = await request(t.app).get('/api/tickets');

    expect(res.status).toBe(200);
    expect(res.body).toEqual({ tickets: [ticketView(newest), ticketView(oldest)], nextCursor: null });
  });

  it('when a ticket is freed again, then it is listed again', async () => {
    const ticket = await buildTicket();
    await ticket.set({ orderId: newId() }).save();
    expect((await request(t.app).get('/api/tickets')).body.tickets).toEqual([]);

    await ticket.set({ orderId: undefined }).save();
    expect((await request(t.app).get('/api/tickets')).body.tickets.map((x: { id: string }) => x.id)).toEqual([ticket.id]);
  });

  it('when there are more tickets than the limit, then pages follow nextCursor until it is null, each ticket once', async () => {
    const created = [];
    for (let i = 0; i < 7; i++) created.push(await buildTicket({ title: `t${i}` }));
    const seen: string[][] = [];
    let cursor: string | null = null;
    do {
      const res: request.Response = await request(t.app)
        .get('/api/tickets')
        .query({ limit: 3, ...(cursor ? { cursor } : {}) });
      expect(res.status).toBe(200);
      seen.push(res.body.tickets.map((x: { title: string }) => x.title));
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual([['t6', 't5', 't4'], ['t3', 't2', 't1'], ['t0']]);
  });

  it('when no limit is given, then 20 are returned', async () => {
    for (let i = 0; i < 21; i++) await buildTicket();
    const res = await request(t.app).get('/api/tickets');
    expect(res.body.tickets).toHaveLength(20);
    expect(res.body.nextCursor).toEqual(expect.any(String));
  });

  it('when the listing is exactly one page, then nextCursor is null', async () => {
    for (let i = 0; i < 3; i++) await buildTicket();
    const res = await request(t.app).get('/api/tickets?limit=3');
    expect(res.body.tickets).toHaveLength(3);
    expect(res.body.nextCursor).toBeNull();
  });

  it('when a listed ticket still has unpublished events, then only its public fields are shown', async () => {
    await buildTicket();
    const [listed] = (await request(t.app).get('/api/tickets')).body.tickets;
    expect(Object.keys(listed).sort()).toEqual(['id', 'price', 'title', 'userId', 'version']);
  });

  it.each([
    ['limit=0', 'limit'],
    ['limit=101', 'limit'],
    ['limit=abc', 'limit'],
    ['limit=2.5', 'limit'],
    ['limit=1&limit=2', 'limit'],
    ['cursor=not-an-id', 'cursor'],
    ['userId[$ne]=x', 'userId[$ne]'],
    ['orderId=x', 'orderId'],
  ])('when the query is %s, then it is 400 naming %s', async (query, field) => {
    const res = await request(t.app).get(`/api/tickets?${query}`);
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([expect.objectContaining({ field })]);
  });

  it('when limit is 100, then it is accepted', async () => {
    const res = await request(t.app).get('/api/tickets?limit=100');
    expect(res.status).toBe(200);
  });
});
