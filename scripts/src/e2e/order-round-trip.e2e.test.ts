import { waitFor } from '@ticketing/common/testing';
import { startTestStack } from './stack-fixture';

jest.setTimeout(120_000);

describe('an order through both services and the bus', () => {
  it('when a ticket is ordered, then tickets reserves it; when the order is cancelled, then it is free again', async () => {
    const stack = await startTestStack();
    const api = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(stack.url + path, {
        method,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${stack.token}` },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: res.status, body: (res.status === 204 ? null : await res.json()) as any };
    };
    try {
      const created = await api('POST', '/api/tickets', { title: 'round trip', price: 30 });
      expect(created.status).toBe(201);
      const ticketId = created.body.id;
      await waitFor(async () => (await api('GET', `/api/orders/tickets/${ticketId}`)).status === 200);

      const order = await api('POST', '/api/orders', { ticketId });
      expect(order.status).toBe(201);
      expect(order.body.ticket.id).toBe(ticketId);

      // order:created reached tickets: the ticket is reserved by that order, and not editable
      const reserved = await waitFor(async () => {
        const t = await api('GET', `/api/tickets/${ticketId}`);
        return t.body.orderId === order.body.id ? t.body : null;
      });
      expect(reserved.version).toBe(1);
      expect((await api('PUT', `/api/tickets/${ticketId}`, { title: 'round trip', price: 99 })).status).toBe(400);
      // the reservation's ticket:updated reached orders: the replica follows the version
      await waitFor(async () => (await api('GET', `/api/orders/tickets/${ticketId}`)).body.version === 1);

      const cancelled = await api('DELETE', `/api/orders/${order.body.id}`);
      expect(cancelled.status).toBeLessThan(300);
      const freed = await waitFor(async () => {
        const t = await api('GET', `/api/tickets/${ticketId}`);
        return t.body.orderId === undefined && t.body.version === 2 ? t.body : null;
      });
      expect(freed.price).toBe(30);
      expect((await api('PUT', `/api/tickets/${ticketId}`, { title: 'round trip', price: 35 })).status).toBe(200);
      // and it can be ordered again
      await waitFor(async () => (await api('GET', `/api/orders/tickets/${ticketId}`)).body.version === 3);
      expect((await api('POST', '/api/orders', { ticketId })).status).toBe(201);
    } finally {
      await stack.stop();
    }
  });
});
