import path from 'node:path';
import request from 'supertest';
import { encodeSessionCookie, signToken, silentLogger } from '@ticketing/common';
import { decodeSessionCookie, verifySession } from '@ticketing/common/testing';
import { createWebApp } from './app';
import { loadConfig } from './config';

const KEY = 'web-test-key-123';
const publicDir = path.join(__dirname, '..', '..', 'public');
const app = (devSignIn: boolean) => createWebApp({ jwtKey: KEY, devSignIn, publicDir, logger: silentLogger });
const sessionCookie = (res: request.Response) =>
  ([] as string[]).concat(res.headers['set-cookie'] ?? []).find((c) => c.startsWith('session='));

describe('the web app server', () => {
  it('when the page is asked for, then it comes with a content-security policy that allows only its own files', async () => {
    const res = await request(app(false)).get('/');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.text).toContain('<script src="/app.js" defer></script>');
    const csp = res.headers['content-security-policy'];
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
  });

  it('when the development sign-in is off (the default), then it is refused with 403 and no cookie', async () => {
    expect(loadConfig({ JWT_KEY: KEY }).DEV_SIGN_IN).toBe(false);
    const res = await request(app(false)).post('/auth/dev-sign-in').send({ email: 'a@x.dev' });
    expect(res.status).toBe(403);
    expect(res.body.errors).toEqual([{ message: 'Development sign-in is off (DEV_SIGN_IN is not set)' }]);
    expect(sessionCookie(res)).toBeUndefined();
    expect((await request(app(false)).get('/auth/session')).body).toEqual({ user: null, devSignIn: false });
  });

  it('when it is on, then it sets an HttpOnly, SameSite=Lax session cookie in cookie-session format that signs the user in', async () => {
    expect(loadConfig({ JWT_KEY: KEY, DEV_SIGN_IN: 'true' }).DEV_SIGN_IN).toBe(true);
    const a = app(true);
    const res = await request(a).post('/auth/dev-sign-in').send({ email: ' Ann@x.dev ' });
    expect(res.status).toBe(200);
    const cookie = sessionCookie(res)!;
    expect(cookie).toMatch(/; HttpOnly/);
    expect(cookie).toMatch(/; SameSite=Lax/);
    expect(cookie).toMatch(/; Path=\//);
    expect(cookie).not.toMatch(/; Secure/);
    const value = cookie.split(';')[0].slice('session='.length);
    // base64 of {"jwt": "..."}, unescaped, as cookie-session writes it
    expect(value).toMatch(/^[A-Za-z0-9+/]+=*$/);
    const session = verifySession(decodeSessionCookie(value)!, KEY);
    expect(session?.user).toEqual({ id: expect.stringMatching(/^[0-9a-f]{24}$/), email: 'Ann@x.dev' });
    expect(res.body.user).toEqual(session?.user);

    const who = await request(a).get('/auth/session').set('Cookie', `session=${value}`);
    expect(who.body).toEqual({ user: session?.user, devSignIn: true });
    // one email, one user
    const again = await request(a).post('/auth/dev-sign-in').send({ email: 'ann@x.dev' });
    expect(again.body.user.id).toBe(session?.user.id);
  });

  it('when tokens may live less than a development session (JWT_MAX_LIFETIME_SECONDS), then the session lasts only that long and is accepted', async () => {
    const short = createWebApp({ jwtKey: KEY, devSignIn: true, publicDir, logger: silentLogger, maxTokenLifetimeSeconds: 3600 });
    const res = await request(short).post('/auth/dev-sign-in').send({ email: 'ann@x.dev' });
    const cookie = sessionCookie(res)!;
    expect(cookie).toMatch(/; Max-Age=3600;/);
    const value = cookie.split(';')[0].slice('session='.length);
    const who = await request(short).get('/auth/session').set('Cookie', `session=${value}`);
    expect(who.body.user).toEqual(res.body.user);
  });

  it('when the request came over https through the proxy, then the cookie is Secure', async () => {
    const res = await request(app(true)).post('/auth/dev-sign-in').set('X-Forwarded-Proto', 'https').send({ email: 'a@x.dev' });
    expect(sessionCookie(res)).toMatch(/; Secure/);
  });

  it.each([
    ['no email', {}],
    ['a number', { email: 5 }],
    ['not an address', { email: 'nobody' }],
  ])('when the sign-in has %s, then it is 400 naming the field', async (_name, body) => {
    const res = await request(app(true)).post('/auth/dev-sign-in').send(body);
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([{ field: 'email', message: expect.any(String) }]);
  });

  it('when a cross-site form posts to the sign-in, then it is 415 and nothing is set', async () => {
    const res = await request(app(true)).post('/auth/dev-sign-in').type('form').send('email=a@x.dev');
    expect(res.status).toBe(415);
    expect(sessionCookie(res)).toBeUndefined();
  });

  it('when the session cookie is garbage or from another key, then the user is signed out, not an error', async () => {
    for (const value of [
      '%%%',
      'e30=',
      encodeSessionCookie('a.b.c'),
      encodeSessionCookie(signToken({ id: 'u', email: 'e' }, 'other-key-123')),
    ]) {
      const res = await request(app(true)).get('/auth/session').set('Cookie', `session=${value}`);
      expect(res.status).toBe(200);
      expect(res.body.user).toBeNull();
    }
  });

  it('when signing out, then the cookie is cleared', async () => {
    const res = await request(app(true)).post('/auth/sign-out').send({});
    expect(res.status).toBe(200);
    expect(sessionCookie(res)).toMatch(/^session=; .*Expires=Thu, 01 Jan 1970/);
  });
});
