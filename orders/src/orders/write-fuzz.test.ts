import { ORDER_STATUSES } from '@ticketing/common';
import { authHeader, testToken } from '@ticketing/common/testing';
import fc from 'fast-check';
import request from 'supertest';
import { givenTicket } from '../test-kit/builders';
import { useHarness } from '../test-kit/harness';
import { Order } from './order.model';

const hostileValue = fc.oneof(
  fc.jsonValue(),
  fc.constantFrom({ $ne: null }, { $gt: '' }, ['a'.repeat(24)], 'a'.repeat(24), 'zz'.repeat(12), '', null, 0),
);
const hostileBody = fc.oneof(
  fc.record({ ticketId: hostileValue }, { requiredKeys: [] }),
  fc.dictionary(fc.string(), hostileValue),
  fc.jsonValue(),
);

describe('random JSON thrown at the orders write endpoints', () => {
  const h = useHarness();

  it('never gets a 5xx, and the database holds only valid orders, at most one active per ticket', async () => {
    const ticket = await givenTicket();
    const token = testToken({ id: 'fuzzer' });
    await fc.assert(
      fc.asyncProperty(hostileBody, fc.constantFrom('post', 'delete'), fc.string(), async (body, method, id) => {
        const res =
          method === 'post'
            ? await request(h.app)
                .post('/api/orders')
                .set(authHeader(token))
                .set('Content-Type', 'application/json')
                .send(JSON.stringify(body))
            : await request(h.app)
                .delete(`/api/orders/${encodeURIComponent(id)}`)
                .set(authHeader(token));
        expect(res.status).toBeLessThan(500);
        if (res.status >= 400) expect(Array.isArray(res.body.errors)).toBe(true);
      }),
      { numRuns: 150 },
    );
    // an order for the real ticket may have been placed once (a body that happened to carry its id)
    await request(h.app).post('/api/orders').set(authHeader(token)).send({ ticketId: ticket.id });
    const orders = await Order.find().lean();
    expect(orders.length).toBeGreaterThan(0);
    for (const order of orders) {
      expect(String(order.ticket)).toBe(ticket.id);
      expect(ORDER_STATUSES).toContain(order.status);
      expect(order.userId).toBe('fuzzer');
    }
    expect(orders.filter((o) => o.status !== 'cancelled')).toHaveLength(1);
  });
});
