import { createHash } from 'node:crypto';
import express, { Router, type Express } from 'express';
import { body, matchedData } from 'express-validator';
import {
  createServiceApp,
  DEFAULT_MAX_TOKEN_LIFETIME_SECONDS,
  encodeSessionCookie,
  ForbiddenError,
  signToken,
  validateRequest,
  type Logger,
} from '@ticketing/common';

/** How long a development session lasts. */
export const DEV_SESSION_SECONDS = 8 * 3600;

export interface WebAppOptions {
  jwtKey: string;
  /** The longest lifetime a token may declare (JWT_MAX_LIFETIME_SECONDS); 24 h if not given. */
  maxTokenLifetimeSeconds?: number;
  /** Off unless configured: then `POST /auth/dev-sign-in` is refused with 403. */
  devSignIn: boolean;
  /** The built browser app (index.html, app.js, style.css). */
  publicDir: string;
  logger: Logger;
  trustProxyHops?: number;
}

/**
 * The content-security policy of the app: its own script, style and API calls only, nothing
 * inline, no frames, no plugins, forms posting nowhere else. No upgrade-insecure-requests: the
 * local stack is plain http (in a cluster TLS and HSTS come with the ingress).
 */
export const APP_CSP = {
  useDefaults: false,
  directives: {
    defaultSrc: ["'self'"],
    scriptSrc: ["'self'"],
    styleSrc: ["'self'"],
    imgSrc: ["'self'", 'data:'],
    connectSrc: ["'self'"],
    fontSrc: ["'self'"],
    objectSrc: ["'none'"],
    baseUri: ["'self'"],
    formAction: ["'self'"],
    frameAncestors: ["'none'"],
  },
};

/**
 * The web app's server: the static files, `GET /auth/session` (who the HttpOnly cookie says the
 * user is: the page cannot read the cookie), and the development sign-in and sign-out. Built on
 * the services' app, so it has the same headers, probes, JSON-only writes and error shape.
 */
export function createWebApp(options: WebAppOptions): Express {
  const auth = Router();
  auth.get('/auth/session', (req, res) => {
    res.json({ user: req.currentUser ?? null, devSignIn: options.devSignIn });
  });
  auth.post(
    '/auth/dev-sign-in',
    (_req, _res, next) => {
      if (!options.devSignIn) throw new ForbiddenError('Development sign-in is off (DEV_SIGN_IN is not set)');
      next();
    },
    body('email').isString().withMessage('email must be a string').bail().trim().isEmail().withMessage('email must be an email address'),
    validateRequest,
    (req, res) => {
      const { email } = matchedData<{ email: string }>(req, { locations: ['body'] });
      // one email, one user id, every time: sign in again and the tickets are still yours
      const id = createHash('sha256').update(email.toLowerCase()).digest('hex').slice(0, 24);
      const user = { id, email };
      // never longer than the services accept, or the session would be refused from the start
      const seconds = Math.min(DEV_SESSION_SECONDS, options.maxTokenLifetimeSeconds ?? DEFAULT_MAX_TOKEN_LIFETIME_SECONDS);
      const token = signToken(user, options.jwtKey, seconds);
      res.cookie('session', encodeSessionCookie(token), {
        httpOnly: true,
        sameSite: 'lax',
        secure: req.secure,
        path: '/',
        maxAge: seconds * 1000,
        // cookie-session's format as it is: base64 needs no escaping in a cookie
        encode: String,
      });
      res.json({ user });
    },
  );
  auth.post('/auth/sign-out', (req, res) => {
    res.clearCookie('session', { httpOnly: true, sameSite: 'lax', secure: req.secure, path: '/' });
    res.json({ user: null });
  });

  const files = Router();
  files.use(express.static(options.publicDir, { index: 'index.html', fallthrough: true }));

  return createServiceApp({
    logger: options.logger,
    jwtKey: options.jwtKey,
    maxTokenLifetimeSeconds: options.maxTokenLifetimeSeconds,
    readiness: {},
    stats: () => ({ devSignIn: options.devSignIn }),
    routers: [auth, files],
    trustProxyHops: options.trustProxyHops,
    contentSecurityPolicy: APP_CSP,
  });
}
