import { Router } from 'express';
import request from 'supertest';
import { createLogger, type LogLevel } from '../logger';
import { signToken } from './auth-token';
import { requireAuth } from './current-user';
import { createServiceApp } from './service-app';

const KEY = 'service-app-test-key';

function app(logged: Record<string, unknown>[] = [], level: LogLevel = 'debug') {
  const routes = Router();
  routes.get('/api/things/whoami', requireAuth, (req, res) => {
    res.json({ user: req.currentUser, ip: req.ip, protocol: req.protocol });
  });
  routes.get('/api/things/broken', () => {
    throw new Error('broken on purpose');
  });
  return createServiceApp({
    logger: createLogger({}, level, (line) => logged.push(JSON.parse(line))),
    jwtKey: KEY,
    readiness: { always: () => true },
    stats: () => ({ listeners: {}, outbox: { published: 7 } }),
    routers: [routes],
  });
}

describe('createServiceApp, the Express app both services are', () => {
  it('when a request comes through the ingress, then the user, client address and scheme are known and its id is logged and echoed', async () => {
    const logged: Record<string, unknown>[] = [];
    const token = signToken({ id: 'u-1', email: 'u@x.dev' }, KEY);
    const res = await request(app(logged))
      .get('/api/things/whoami')
      .set('Authorization', `Bearer ${token}`)
      .set('X-Forwarded-For', '203.0.113.9')
      .set('X-Forwarded-Proto', 'https')
      .set('X-Request-Id', 'ingress-req-42');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ user: { id: 'u-1', email: 'u@x.dev' }, ip: '203.0.113.9', protocol: 'https' });
    expect(res.headers['x-request-id']).toBe('ingress-req-42');
    expect(logged).toEqual([
      expect.objectContaining({
        message: 'http request',
        requestId: 'ingress-req-42',
        method: 'GET',
        path: '/api/things/whoami',
        status: 200,
      }),
    ]);
  });

  it('when the log level is info, then a request answered below 500 prints no line, and one answered 5xx a warning', async () => {
    const logged: Record<string, unknown>[] = [];
    const a = app(logged, 'info');
    await request(a).get('/api/nothing').expect(404);
    await request(a)
      .get('/api/things/whoami')
      .set('Authorization', `Bearer ${signToken({ id: 'u', email: 'u@x.dev' }, KEY)}`)
      .expect(200);
    expect(logged).toEqual([]);
    await request(a).get('/api/things/broken').expect(500);
    expect(logged).toContainEqual(
      expect.objectContaining({ level: 'warn', message: 'http request', path: '/api/things/broken', status: 500 }),
    );
  });

  it('when the incoming request id is not a plain token, then a fresh one replaces it', async () => {
    const res = await request(app()).get('/api/nothing').set('X-Request-Id', 'bad id\twith spaces');
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('when a path is unknown or the user is missing, then the answer is the one JSON error shape', async () => {
    const missing = await request(app()).get('/api/nothing');
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ code: expect.any(String), errors: [{ message: expect.any(String) }] });
    const anonymous = await request(app()).get('/api/things/whoami');
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.errors[0].message).toEqual(expect.any(String));
  });

  it('when probes and counters are asked, then they answer without a log line for the probes', async () => {
    const logged: Record<string, unknown>[] = [];
    const a = app(logged);
    expect((await request(a).get('/healthz')).status).toBe(200);
    expect((await request(a).get('/readyz')).status).toBe(200);
    expect((await request(a).get('/internal/stats')).body).toEqual({ listeners: {}, outbox: { published: 7 } });
    expect(logged.map((l) => l.path)).toEqual(['/internal/stats']);
  });
});
