import { Router } from 'express';
import request from 'supertest';
import { createLogger, type LogLevel } from '../logger';
import { signToken } from './auth-token';
import { requireAuth } from './current-user';
import { createServiceApp } from './service-app';

const KEY = 'service-app-test-key';

function app(logged: Record<string, unknown>[] = [], options: { level?: LogLevel; trustProxyHops?: number; raw?: string[] } = {}) {
  const logger = createLogger({}, options.level ?? 'debug', (line) => {
    options.raw?.push(line);
    logged.push(JSON.parse(line));
  });
  const routes = Router();
  routes.get('/api/things/whoami', requireAuth, (req, res) => {
    res.json({ user: req.currentUser, ip: req.ip, protocol: req.protocol });
  });
  routes.get('/api/things/broken', () => {
    throw new Error('broken on purpose');
  });
  routes.post('/api/things/broken-later', async (req) => {
    logger.info({ step: 1 }, 'handler: before the database');
    await new Promise((resolve) => setImmediate(resolve));
    req.log.warn({ step: 2 }, 'handler: through req.log');
    throw new Error('broken after a wait');
  });
  routes.get('/api/things/ip', (req, res) => {
    res.json({ ip: req.ip, signedIn: req.currentUser !== undefined });
  });
  const handled: unknown[] = [];
  routes.post('/api/things', (req, res) => {
    handled.push(req.body);
    res.status(201).json({ handled: handled.length });
  });
  routes.delete('/api/things/:id', (_req, res) => {
    res.json({ deleted: true });
  });
  return createServiceApp({
    logger,
    jwtKey: KEY,
    readiness: { always: () => true },
    stats: () => ({ listeners: {}, outbox: { published: 7 } }),
    routers: [routes],
    trustProxyHops: options.trustProxyHops,
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
    const a = app(logged, { level: 'info' });
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

  it('when a handler logs (through the service logger or req.log) and then fails with a 500, then every line carries the request id, once', async () => {
    const logged: Record<string, unknown>[] = [];
    const raw: string[] = [];
    const res = await request(app(logged, { raw })).post('/api/things/broken-later').send({ a: 1 }).expect(500);
    const requestId = res.headers['x-request-id'];
    expect(logged.map((l) => l.message)).toEqual([
      'handler: before the database',
      'handler: through req.log',
      'http: unexpected error',
      'http request',
    ]);
    for (const line of logged) expect(line).toMatchObject({ requestId });
    expect(logged.at(-1)).toMatchObject({ level: 'warn', status: 500, method: 'POST', path: '/api/things/broken-later' });
    // no line names the id twice (a child's binding and the context both writing it)
    for (const line of raw) expect(line.match(/"requestId"/g)).toHaveLength(1);
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

  it('when any answer goes out, then it carries the security headers', async () => {
    for (const res of [
      await request(app()).get('/healthz'),
      await request(app()).get('/api/nothing'),
      await request(app()).post('/api/things').send({}),
    ]) {
      expect(res.headers['content-security-policy']).toContain("default-src 'self'");
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['x-frame-options']).toBe('SAMEORIGIN');
      expect(res.headers['strict-transport-security']).toContain('max-age=');
      expect(res.headers['referrer-policy']).toBe('no-referrer');
      expect(res.headers['x-powered-by']).toBeUndefined();
    }
  });

  it.each([
    ['a form post', 'application/x-www-form-urlencoded', 'title=x&price=1'],
    ['a multipart form', 'multipart/form-data; boundary=b', '--b\r\nContent-Disposition: form-data; name="t"\r\n\r\nx\r\n--b--'],
    ['text/plain (a form with enctype=text/plain)', 'text/plain', '{"title":"x","price":1}'],
    ['JSON under another name', 'application/x-json', '{"title":"x"}'],
  ])('when a write carries %s, then it is 415 in the JSON error shape and no handler runs', async (_name, type, body) => {
    const a = app();
    const res = await request(a).post('/api/things').set('Content-Type', type).send(body);
    expect(res.status).toBe(415);
    expect(res.body).toEqual({
      code: 'unsupported_media_type',
      errors: [{ message: 'Request body must be JSON (Content-Type: application/json)' }],
    });
    // the handler counts the writes it took: the next accepted one is the first
    expect((await request(a).post('/api/things').send({ ok: true })).body).toEqual({ handled: 1 });
  });

  it('when a write has no content type but a body, then it is 415; JSON with a charset, or no body at all, goes through', async () => {
    const a = app();
    const untyped = await request(a).post('/api/things').set('Content-Length', '2').send(Buffer.from('{}'));
    expect(untyped.status).toBe(415);
    expect((await request(a).post('/api/things').set('Content-Type', 'application/json; charset=utf-8').send('{"a":1}')).status).toBe(201);
    expect((await request(a).delete('/api/things/1')).status).toBe(200);
  });

  it('when X-Forwarded-For holds more hops than the configured proxies, then only the trusted ones are believed', async () => {
    // the client wrote 198.51.100.1 itself; the one proxy in front appended the address it saw
    const forwarded = '198.51.100.1, 203.0.113.9';
    expect((await request(app()).get('/api/things/ip').set('X-Forwarded-For', forwarded)).body.ip).toBe('203.0.113.9');
    expect(
      (
        await request(app([], { trustProxyHops: 2 }))
          .get('/api/things/ip')
          .set('X-Forwarded-For', forwarded)
      ).body.ip,
    ).toBe('198.51.100.1');
    expect(
      (
        await request(app([], { trustProxyHops: 0 }))
          .get('/api/things/ip')
          .set('X-Forwarded-For', forwarded)
      ).body.ip,
    ).toMatch(/127\.0\.0\.1/);
  });

  const base64 = (text: string) => Buffer.from(text).toString('base64');
  it.each([
    ['not base64 at all', '%%%not-a-cookie'],
    ['a broken percent escape', '%E0%A4%A'],
    ['base64 of plain text', base64('hello')],
    ['base64 of JSON null', base64('null')],
    ['base64 of a JSON string', base64('"jwt"')],
    ['a jwt that is a number', base64('{"jwt":5}')],
    ['a jwt that is an object', base64('{"jwt":{"$ne":null}}')],
    ['a jwt that is garbage', base64('{"jwt":"a.b.c"}')],
    ['a token signed with another key', base64(JSON.stringify({ jwt: signToken({ id: 'u', email: 'e' }, 'another-key-123') }))],
    ['a token with alg none', base64(JSON.stringify({ jwt: `${base64('{"alg":"none"}')}.${base64('{"id":"u","email":"e"}')}.` }))],
    ['an empty value', ''],
    ['a huge value', 'A'.repeat(6000)],
  ])('when the session cookie is %s, then the caller is simply signed out (never a 500)', async (_name, value) => {
    const a = app();
    const open = await request(a).get('/api/things/ip').set('Cookie', `other=1; session=${value}`);
    expect(open.status).toBe(200);
    expect(open.body.signedIn).toBe(false);
    const guarded = await request(a).get('/api/things/whoami').set('Cookie', `session=${value}`);
    expect(guarded.status).toBe(401);
    expect(guarded.body.errors).toEqual([{ message: 'Not signed in' }]);
  });

  it('when the session cookie holds a valid token, then the caller is signed in', async () => {
    const token = signToken({ id: 'u-2', email: 'c@x.dev' }, KEY);
    const res = await request(app())
      .get('/api/things/whoami')
      .set('Cookie', `session=${base64(JSON.stringify({ jwt: token }))}`);
    expect(res.status).toBe(200);
    expect(res.body.user).toEqual({ id: 'u-2', email: 'c@x.dev' });
  });
});
