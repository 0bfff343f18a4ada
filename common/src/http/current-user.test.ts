import express from 'express';
import jwt from 'jsonwebtoken';
import request from 'supertest';
import { currentUser, requireAuth } from './current-user';
import { encodeSessionCookie, signToken } from './auth-token';
import { errorHandler, notFound } from './error-handler';

const KEY = 'auth-test-key-123';
const user = { id: 'u-1', email: 'ada@example.com' };

function app() {
  const a = express();
  a.use(currentUser(KEY));
  a.get('/me', (req, res) => {
    res.json({ currentUser: req.currentUser ?? null });
  });
  a.get('/private', requireAuth, (_req, res) => {
    res.json({ ok: true });
  });
  a.use(notFound);
  a.use(errorHandler());
  return a;
}

describe('currentUser and requireAuth', () => {
  it('when a valid bearer token is sent, then the user is known and private routes open', async () => {
    const token = signToken(user, KEY);
    const me = await request(app()).get('/me').set('Authorization', `Bearer ${token}`);
    expect(me.body.currentUser).toEqual(user);
    await request(app()).get('/private').set('Authorization', `Bearer ${token}`).expect(200);
  });

  it('when a valid cookie-session cookie holds the jwt, then the user is known', async () => {
    const cookie = `session=${encodeSessionCookie(signToken(user, KEY))}`;
    const me = await request(app()).get('/me').set('Cookie', cookie);
    expect(me.body.currentUser).toEqual(user);
    await request(app()).get('/private').set('Cookie', cookie).expect(200);
  });

  it('when no token is sent, then private routes answer 401 with the JSON error shape', async () => {
    const res = await request(app()).get('/private').expect(401);
    expect(res.body).toEqual({ code: 'unauthorized', errors: [{ message: 'Not signed in' }] });
  });

  it('when the token has expired, then it is ignored', async () => {
    const expired = jwt.sign({ ...user, exp: Math.floor(Date.now() / 1000) - 10 }, KEY, { algorithm: 'HS256' });
    await request(app()).get('/private').set('Authorization', `Bearer ${expired}`).expect(401);
  });

  it('when the same token comes again, then it is not verified again, and once it expires it is refused', async () => {
    const a = app();
    const token = signToken(user, KEY, 3); // expires 2 to 3 s from now (whole seconds)
    const verify = jest.spyOn(jwt, 'verify');
    try {
      for (let i = 0; i < 3; i++) await request(a).get('/private').set('Authorization', `Bearer ${token}`).expect(200);
      expect(verify).toHaveBeenCalledTimes(1);
      await new Promise((r) => setTimeout(r, 3100));
      await request(a).get('/private').set('Authorization', `Bearer ${token}`).expect(401);
    } finally {
      verify.mockRestore();
    }
  });

  it('when the token was signed with another key or tampered with, then it is ignored', async () => {
    const foreign = signToken(user, 'some-other-key');
    await request(app()).get('/private').set('Authorization', `Bearer ${foreign}`).expect(401);
    const [header, , signature] = signToken(user, KEY).split('.');
    const forgedPayload = Buffer.from(JSON.stringify({ id: 'admin', email: 'x@y.z' })).toString('base64url');
    await request(app()).get('/private').set('Authorization', `Bearer ${header}.${forgedPayload}.${signature}`).expect(401);
  });

  it('when the token uses alg none or another algorithm, then it is ignored', async () => {
    const none = jwt.sign(user, '', { algorithm: 'none' });
    await request(app()).get('/private').set('Authorization', `Bearer ${none}`).expect(401);
    const hs512 = jwt.sign(user, KEY, { algorithm: 'HS512' });
    await request(app()).get('/private').set('Authorization', `Bearer ${hs512}`).expect(401);
  });

  it('when the cookie is garbage, then it is ignored without an error', async () => {
    await request(app()).get('/private').set('Cookie', 'session=%%%not-base64').expect(401);
    const me = await request(app()).get('/me').set('Cookie', 'session=e30=').expect(200);
    expect(me.body.currentUser).toBeNull();
  });
});
