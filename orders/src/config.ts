import { parseConfig, serviceEnvShape } from '@ticketing/common';
import { z } from 'zod';

/**
 * The variables orders refuses to start without. Kept as a one-line array literal: the
 * Kubernetes manifest test reads it from this file to check the Deployment provides each one.
 */
export const REQUIRED_ENV = ['MONGO_URL', 'NATS_URL', 'JWT_KEY'] as const;

/** Everything else has a default: the common service variables plus the order window. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env) {
  return parseConfig(
    {
      ...serviceEnvShape,
      /** How long a new order holds its ticket before it is cancelled automatically. */
      ORDER_EXPIRATION_SECONDS: z.coerce.number().int().positive().default(900),
      /** How often each copy looks for orders past their deadline. */
      EXPIRY_CHECK_INTERVAL_MS: z.coerce.number().int().positive().default(1000),
    },
    env,
  );
}

export type OrdersConfig = ReturnType<typeof loadConfig>;
