import request from 'supertest';
import { useHarness } from '../test-kit/harness';
import { newId } from '@ticketing/common/testing';
import { buildTicket } from '../test-kit/builders';

describe('GET /api/tickets/:id', () => {
  const t = useHarness();

  it('when the ticket exists, then it is 200 with the ticket (no sign-in needed) and its version as ETag', async () => {
    const ticket = await buildTicket({ title: 'Opera', price: 5, userId: 'seller-1' });
    const res = await request(t.app).get(`/api/tickets/${ticket.id}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ id: ticket.id, title: 'Opera', price: 5, userId: 'seller-1', version: 0 });
    expect(res.headers.etag).toBe('"0"');
  });

  it('when the ticket is reserved, then the answer shows the orderId', async () => {
    const ticket = await buildTicket();
    const orderId = newId();
    await ticket.set({ orderId }).save();
    const res = await request(t.app).get(`/api/tickets/${ticket.id}`);
    expect(res.body).toMatchObject({ id: ticket.id, orderId, version: 1 });
  });

  it('when no ticket has that id, then it is 404', async () => {
    const res = await request(t.app).get(`/api/tickets/${newId()}`);
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ code: 'not_found', errors: [{ message: 'Ticket not found' }] });
  });

  it.each(['not-an-id', '123', 'zzzzzzzzzzzzzzzzzzzzzzzz', 'abcdefghijkl'])(
    'when the id is malformed (%s), then it is 404, never 500',
    async (id) => {
      const res = await request(t.app).get(`/api/tickets/${id}`);
      expect(res.status).toBe(404);
      expect(res.body.errors).toEqual([{ message: 'Ticket not found' }]);
    },
  );
});
