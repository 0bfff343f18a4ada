import express from 'express';
import jwt from 'jsonwebtoken';
import request from 'supertest';
import { currentUser, requireAuth } from './current-user';
import { encodeSessionCookie, signToken } from './auth-token';
import { errorHandler, notFound } from './error-handler';
import { craftedToken } from '../testing/helpers';

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

  it('when the same token comes again, then it is not verified again, and once it expires it is refused (not served from the cache)', async () => {
    const a = app();
    const token = signToken(user, KEY, 60);
    const { exp } = jwt.decode(token) as { exp: number };
    const verify = jest.spyOn(jwt, 'verify');
    try {
      for (let i = 0; i < 3; i++) await request(a).get('/private').set('Authorization', `Bearer ${token}`).expect(200);
      expect(verify).toHaveBeenCalledTimes(1);
      // The clock moves past exp (the cache and jsonwebtoken both read Date.now).
      const now = jest.spyOn(Date, 'now').mockReturnValue(exp * 1000 + 1);
      try {
        await request(a).get('/private').set('Authorization', `Bearer ${token}`).expect(401);
      } finally {
        now.mockRestore();
      }
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

  describe('tokens that would be valid too long, or that ask for what the service does not understand', () => {
    const nowSeconds = () => Math.floor(Date.now() / 1000);
    const sign = (payload: object, header: Record<string, unknown> = {}) =>
      jwt.sign(payload, KEY, { algorithm: 'HS256', header: { alg: 'HS256', ...header } as jwt.JwtHeader });
    const answer = (token: string, a = app()) => request(a).get('/private').set('Authorization', `Bearer ${token}`);

    it('when the token has no exp, then it is refused with 401 and the JSON error shape (it would never expire)', async () => {
      const res = await answer(sign(user)).expect(401);
      expect(res.body).toEqual({ code: 'unauthorized', errors: [{ message: 'Not signed in' }] });
    });

    it('when the header has crit, naming an extension or malformed, then it is refused (RFC 7515 §4.1.11)', async () => {
      const payload = { ...user, exp: nowSeconds() + 600 };
      await answer(sign(payload)).expect(200);
      await answer(sign(payload, { crit: ['http://example.com/ext'], 'http://example.com/ext': true })).expect(401);
      await answer(sign(payload, { crit: ['exp'] })).expect(401);
      await answer(sign(payload, { crit: [] })).expect(401);
      await answer(sign(payload, { crit: 'b64' })).expect(401);
    });

    it('when it declares a life longer than the maximum (24 h by default), then it is refused; exactly the maximum is accepted', async () => {
      const iat = nowSeconds();
      await answer(sign({ ...user, iat, exp: iat + 24 * 3600 })).expect(200);
      await answer(sign({ ...user, iat, exp: iat + 24 * 3600 + 1 })).expect(401);
      await answer(sign({ ...user, iat, exp: iat + 365 * 24 * 3600 })).expect(401);
      await answer(signToken(user, KEY, 30 * 24 * 3600)).expect(401);
    });

    it('when it has no iat, then its exp may be at most the maximum from now', async () => {
      await answer(sign({ ...user, exp: nowSeconds() + 3600 })).expect(200);
      await answer(sign({ ...user, exp: nowSeconds() + 10 * 24 * 3600 })).expect(401);
    });

    it('when its iat is in the future, then that does not stretch its life past the maximum from now', async () => {
      const iat = nowSeconds() + 10 * 24 * 3600;
      await answer(sign({ ...user, iat, exp: iat + 3600 })).expect(401);
      // jsonwebtoken will not sign a non-numeric iat: the token is made by hand, correctly signed.
      await answer(craftedToken({ ...user, iat: 'yesterday', exp: nowSeconds() + 3600 }, {}, KEY)).expect(401);
    });

    it('when the service is configured with a shorter maximum, then a token within the default but beyond it is refused', async () => {
      const short = express();
      short.use(currentUser(KEY, { maxLifetimeSeconds: 3600 }));
      short.get('/private', requireAuth, (_req, res) => {
        res.json({ ok: true });
      });
      short.use(errorHandler());
      await answer(signToken(user, KEY, 3600), short).expect(200);
      await answer(signToken(user, KEY, 2 * 3600), short).expect(401);
    });
  });
});
