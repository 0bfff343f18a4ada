import { silentLogger } from '@ticketing/common';
import { TEST_JWT_KEY, authHeader, testToken, serviceReadiness } from '@ticketing/common/testing';
import mongoose from 'mongoose';
import request from 'supertest';
import { createApp } from './app';
import { useHarness } from './test-kit/harness';

describe('orders app plumbing (real MongoDB-protocol server and nats-server)', () => {
  const h = useHarness();

  it('when /healthz is asked, then 200 without signing in', async () => {
    await request(h.app).get('/healthz').expect(200, { status: 'ok' });
  });

  it('when every dependency is up, then /readyz is 200 naming each check', async () => {
    const res = await request(h.app).get('/readyz').expect(200);
    expect(res.body).toEqual({ status: 'ready', checks: { mongo: true, nats: true, accepting: true } });
  });

  it('when a dependency is down, then /readyz is 503 naming it', async () => {
    const app = appWith({ readiness: { mongo: () => true, nats: () => false } });
    const res = await request(app).get('/readyz').expect(503);
    expect(res.body).toEqual({ status: 'unavailable', checks: { mongo: true, nats: false } });
  });

  it('when /internal/stats is asked, then it reports both listeners and the events published', async () => {
    const res = await request(h.app).get('/internal/stats').expect(200);
    const none = { handled: 0, applied: 0, duplicates: 0, retried: 0, deadLettered: 0 };
    expect(res.body).toEqual({
      listeners: { 'ticket:created': none, 'ticket:updated': none },
      bulk: { writes: 0, events: 0, fellBack: 0 },
      outbox: { published: h.relay.published },
    });
  });

  it('when a route does not exist, then a JSON 404 in the one error shape', async () => {
    const res = await request(h.app).get('/api/nothing-here').expect(404);
    expect(res.body).toEqual({ code: 'not_found', errors: [{ message: 'No route for GET /api/nothing-here' }] });
  });

  it('when a body is over 100 kB, then 413 and not 500', async () => {
    const res = await request(h.app)
      .post('/api/orders')
      .set(authHeader(testToken()))
      .send({ ticketId: 'x'.repeat(110_000) })
      .expect(413);
    expect(res.body.errors).toEqual([{ message: 'Request body too large' }]);
  });

  it('when the token is forged with another key, then 401', async () => {
    await request(h.app)
      .get('/api/orders')
      .set(authHeader(testToken({}, 'some-other-key')))
      .expect(401);
  });

  it('when the database is unreachable, then requests fail fast with 503 (not 500, not a hang) and /readyz says mongo: false', async () => {
    const app = appWith({ readiness: serviceReadiness(h.bus) });
    mongoose.set('bufferTimeoutMS', 300);
    await mongoose.disconnect();
    try {
      const started = Date.now();
      const res = await request(app).get('/api/orders').set(authHeader(testToken())).expect(503);
      expect(res.body.errors).toEqual([{ message: 'Database unavailable, retry shortly' }]);
      expect(res.headers['retry-after']).toBe('1');
      expect(Date.now() - started).toBeLessThan(3000);
      const ready = await request(app).get('/readyz').expect(503);
      expect(ready.body.checks).toEqual({ mongo: false, nats: true, accepting: true });
    } finally {
      mongoose.set('bufferTimeoutMS', 10_000);
      await mongoose.connect(h.mongoUrl);
    }
  });

  it('when the copy is shutting down, then /readyz is 503 so it leaves the Service before connections close', async () => {
    const app = appWith({ readiness: serviceReadiness(h.bus, () => true) });
    const res = await request(app).get('/readyz').expect(503);
    expect(res.body.checks).toEqual({ mongo: true, nats: true, accepting: false });
  });

  function appWith(overrides: Partial<Parameters<typeof createApp>[0]>) {
    return createApp({ jwtKey: TEST_JWT_KEY, relay: h.relay, logger: silentLogger, readiness: {}, expirationSeconds: 900, ...overrides });
  }
});
