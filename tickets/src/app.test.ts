import mongoose from 'mongoose';
import request from 'supertest';
import { silentLogger } from '@ticketing/common';
import { authHeader, testMongoUrl, testToken, TEST_JWT_KEY, waitFor, DB_BUFFER_TIMEOUT_MS } from '@ticketing/common/testing';
import { useHarness } from './test-kit/harness';
import { buildTicket, ticketBody } from './test-kit/builders';
import { createApp } from './app';
import { connectDatabase } from './database';

describe('health, readiness, stats and unknown routes', () => {
  const t = useHarness();

  it('when the process is up, then /healthz is 200', async () => {
    const res = await request(t.app).get('/healthz');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok' });
  });

  it('when MongoDB and NATS are connected, then /readyz is 200 and names each check', async () => {
    const res = await request(t.app).get('/readyz');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ready', checks: { mongo: true, nats: true, accepting: true } });
  });

  it('when a readiness check is false, then /readyz is 503 naming it, while /healthz stays 200', async () => {
    const app = createApp({
      jwtKey: TEST_JWT_KEY,
      relay: t.relay,
      logger: silentLogger,
      readiness: { mongo: () => true, nats: () => false },
    });
    const res = await request(app).get('/readyz');
    expect(res.status).toBe(503);
    expect(res.body).toEqual({ status: 'unavailable', checks: { mongo: true, nats: false } });
    expect((await request(app).get('/healthz')).status).toBe(200);
  });

  it('when the NATS server goes down, then /readyz turns 503 (nats: false), and 200 again once it is back', async () => {
    await t.nats.stop();
    try {
      const down = await waitFor(async () => {
        const res = await request(t.app).get('/readyz');
        return res.status === 503 ? res : null;
      });
      expect(down.body.checks).toEqual({ mongo: true, nats: false, accepting: true });
    } finally {
      await t.nats.start();
    }
    await waitFor(async () => (await request(t.app).get('/readyz')).status === 200, { what: 'readiness after NATS restarts' });
  });

  it('when the database connection is lost, then a request fails fast with 503 and /readyz says mongo: false', async () => {
    const ticket = await buildTicket();
    await mongoose.disconnect();
    try {
      const started = Date.now();
      const res = await request(t.app).get(`/api/tickets/${ticket.id}`);
      expect(res.status).toBe(503);
      expect(res.body.errors).toEqual([{ message: 'Database unavailable, retry shortly' }]);
      expect(res.headers['retry-after']).toBe('1');
      expect(Date.now() - started).toBeLessThan(DB_BUFFER_TIMEOUT_MS + 1500);
      expect((await request(t.app).get('/readyz')).body.checks.mongo).toBe(false);
    } finally {
      await connectDatabase(testMongoUrl('tickets'));
    }
  });

  it('when /internal/stats is asked, then it shows both listeners and the outbox counters of this copy', async () => {
    const before = await request(t.app).get('/internal/stats');
    expect(before.status).toBe(200);
    const counters = {
      handled: expect.any(Number),
      applied: expect.any(Number),
      duplicates: expect.any(Number),
      retried: expect.any(Number),
      deadLettered: expect.any(Number),
    };
    expect(before.body).toEqual({
      listeners: { 'order:created': counters, 'order:updated': counters },
      outbox: { published: expect.any(Number) },
    });

    await request(t.app).post('/api/tickets').set(authHeader(testToken())).send(ticketBody()).expect(201);

    await waitFor(async () => (await request(t.app).get('/internal/stats')).body.outbox.published === before.body.outbox.published + 1, {
      what: 'the ticket:created to be counted',
    });
  });

  it('when a route does not exist, then it is a JSON 404', async () => {
    const res = await request(t.app).delete('/api/tickets');
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ code: 'not_found', errors: [{ message: 'No route for DELETE /api/tickets' }] });
  });
});
