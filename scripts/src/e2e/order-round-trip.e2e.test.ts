import fs from 'node:fs';
import path from 'node:path';
import { createTicketingClient } from '@ticketing/client';
import { ordersOpenApi, ticketsOpenApi } from '@ticketing/common';
import { StackContract, waitFor } from '@ticketing/common/testing';
import { startTestStack } from './stack-fixture';

jest.setTimeout(120_000);

describe('an order through both services and the bus', () => {
  it('when a ticket is ordered, then tickets reserves it; when the order is cancelled, then it is free again', async () => {
    // At debug level: every request's access line too, to check what production writes.
    const stack = await startTestStack({ serviceEnv: { LOG_LEVEL: 'debug' } });
    // the typed client generated from the OpenAPI documents: a call the contract does not allow
    // does not compile, and every answer of the real stack is checked against the documents
    const violations: string[] = [];
    const fetch = new StackContract([ticketsOpenApi, ordersOpenApi]).checkingFetch(violations);
    const { tickets, orders } = createTicketingClient({ baseUrl: stack.url, token: stack.token, fetch });
    const replica = (id: string) => orders.GET('/api/orders/tickets/{id}', { params: { path: { id } } });
    const ticketAt = (id: string) => tickets.GET('/api/tickets/{id}', { params: { path: { id } } });
    try {
      const created = await tickets.POST('/api/tickets', { body: { title: 'round trip', price: 30 } });
      expect(created.response.status).toBe(201);
      const ticketId = created.data!.id;
      await waitFor(async () => (await replica(ticketId)).response.status === 200);

      const order = await orders.POST('/api/orders', { body: { ticketId } });
      expect(order.response.status).toBe(201);
      expect(order.data!.ticket.id).toBe(ticketId);

      // order:created reached tickets: the ticket is reserved by that order, and not editable
      const reserved = await waitFor(async () => {
        const { data } = await ticketAt(ticketId);
        return data?.orderId === order.data!.id ? data : null;
      });
      expect(reserved.version).toBe(1);
      const refused = await tickets.PUT('/api/tickets/{id}', {
        params: { path: { id: ticketId } },
        body: { title: 'round trip', price: 99 },
      });
      expect(refused.response.status).toBe(400);
      expect(refused.error?.errors[0].message).toMatch(/reserved/);
      // the reservation's ticket:updated reached orders: the replica follows the version
      await waitFor(async () => (await replica(ticketId)).data?.version === 1);

      const cancelled = await orders.DELETE('/api/orders/{id}', { params: { path: { id: order.data!.id } } });
      expect(cancelled.response.status).toBe(200);
      expect(cancelled.data!.status).toBe('cancelled');
      const freed = await waitFor(async () => {
        const { data } = await ticketAt(ticketId);
        return data && data.orderId === undefined && data.version === 2 ? data : null;
      });
      expect(freed.price).toBe(30);
      const edited = await tickets.PUT('/api/tickets/{id}', {
        params: { path: { id: ticketId } },
        body: { title: 'round trip', price: 35 },
      });
      expect(edited.response.status).toBe(200);
      // and it can be ordered again
      await waitFor(async () => (await replica(ticketId)).data?.version === 3);
      expect((await orders.POST('/api/orders', { body: { ticketId } })).response.status).toBe(201);
      expect(violations).toEqual([]);
    } finally {
      await stack.stop();
    }
    // What a service writes when its output is not a terminal (a container's, a file): one JSON
    // object a line, with its time, level and message; each access line with its request id.
    for (const service of ['tickets-0', 'orders-0']) {
      const lines = fs
        .readFileSync(path.join(stack.logDir, `${service}.log`), 'utf8')
        .split('\n')
        .filter((line) => line !== '' && !line.startsWith('(node:')); // Node's own warnings, on stderr
      const parsed = lines.map((line) => {
        try {
          return JSON.parse(line) as Record<string, unknown>;
        } catch {
          return { notJson: line };
        }
      });
      expect(parsed.filter((l) => 'notJson' in l)).toEqual([]);
      for (const line of parsed) {
        expect(line).toEqual(expect.objectContaining({ time: expect.any(String), level: expect.any(String), message: expect.any(String) }));
      }
      const access = parsed.filter((l) => l.message === 'http request');
      expect(access.length).toBeGreaterThan(0);
      for (const line of access) expect(line.requestId).toEqual(expect.any(String));
    }
  });
});
