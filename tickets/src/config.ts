import { parseConfig, serviceEnvShape } from '@ticketing/common';

/**
 * The variables tickets refuses to start without. Kept as a one-line array literal: the
 * Kubernetes manifest test reads it from this file to check the Deployment provides each one.
 */
export const REQUIRED_ENV = ['MONGO_URL', 'NATS_URL', 'JWT_KEY'] as const;

/** Everything else (PORT, NATS_CLIENT_NAME, JETSTREAM_REPLICAS, EVENT_BUS, STAN_CLUSTER_ID, LOG_LEVEL) has a default. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env) {
  return parseConfig(serviceEnvShape, env);
}

export type TicketsConfig = ReturnType<typeof loadConfig>;
