import { hostSetting, httpTimeoutsEnvShape, jwtMaxLifetimeSetting, parseConfig } from '@ticketing/common';
import { z } from 'zod';

/** The variables the web server refuses to start without. */
export const REQUIRED_ENV = ['JWT_KEY'] as const;

const flag = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

export function loadConfig(env: NodeJS.ProcessEnv = process.env) {
  return parseConfig(
    {
      ...httpTimeoutsEnvShape,
      PORT: z.coerce.number().int().min(0).max(65535).default(3000),
      HOST: hostSetting,
      /** Verifies the session cookie (`GET /auth/session`) and signs development sessions. */
      JWT_KEY: z.string().min(8, 'must be at least 8 characters'),
      JWT_MAX_LIFETIME_SECONDS: jwtMaxLifetimeSetting,
      /** The development sign-in (anyone is anyone): for the local stack or a demo cluster only. */
      DEV_SIGN_IN: flag.default(false),
      TRUST_PROXY_HOPS: z.coerce.number().int().min(0).max(10).default(1),
      LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
    },
    env,
  );
}

export type WebConfig = ReturnType<typeof loadConfig>;
