import type { EventBusKind } from '../config';
import type { Logger } from '../logger';
import { JetStreamBus } from './jetstream-bus';
import { StanBus } from './stan-bus';
import type { Bus } from './types';

/** A bus a service owns: it reports its connection for readiness and is closed on shutdown. */
export type ServiceBus = Bus & { isConnected(): boolean; close(): Promise<void> };

/** The configuration a service's bus is made from (see `serviceEnvShape`). */
export interface BusConfig {
  EVENT_BUS: EventBusKind;
  NATS_URL: string;
  NATS_CLIENT_NAME: string;
  JETSTREAM_REPLICAS: number;
  STAN_CLUSTER_ID: string;
  /** A NATS user of the server's config (JetStream; see infra/k8s/nats.yaml), when it requires one. */
  NATS_USER?: string;
  NATS_PASSWORD?: string;
}

/** Connects the transport the configuration names: nothing else in a service knows which it is. */
export async function connectBus(config: BusConfig, logger: Logger): Promise<ServiceBus> {
  if (config.EVENT_BUS === 'nats-streaming') {
    return StanBus.connect({ servers: config.NATS_URL, clusterId: config.STAN_CLUSTER_ID, name: config.NATS_CLIENT_NAME, logger });
  }
  return JetStreamBus.connect({
    servers: config.NATS_URL,
    name: config.NATS_CLIENT_NAME,
    user: config.NATS_USER,
    pass: config.NATS_PASSWORD,
    replicas: config.JETSTREAM_REPLICAS,
    logger,
  });
}
