import type http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import {
  databaseUrl,
  freePort,
  repoRoot,
  startMongoServer,
  startNatsCluster,
  startNatsServer,
  type MongoServerHandle,
  type NatsClusterHandle,
  type NatsServerHandle,
} from '@ticketing/common/testing';
import { createGateway } from './gateway';
import { ServiceProcess } from './service-process';

export interface StackOptions {
  /** The gateway's port (0: any free one). */
  port?: number;
  ordersReplicas?: number;
  ticketsReplicas?: number;
  /**
   * Run NATS from the deployed config (infra/k8s/nats.yaml) as this many loopback nodes, with its
   * users (generated passwords) and JETSTREAM_REPLICAS set to match. Unset: one plain nats-server
   * without users.
   */
  natsNodes?: number;
  /** Use these instead of starting servers. */
  mongoUrl?: string;
  natsUrl?: string;
  jwtKey: string;
  /** Keeps data between runs (the start command); a temp dir otherwise. */
  dataDir?: string;
  /** Where each service's log goes: a folder, or 'inherit'. */
  logDir: string | 'inherit';
  /** Database name prefix, so several stacks can share a MongoDB server. */
  databasePrefix?: string;
  serviceEnv?: NodeJS.ProcessEnv;
}

export interface Stack {
  url: string;
  nats?: NatsServerHandle;
  /** With `natsNodes`: the nodes, and the passwords of the config's users (admin included). */
  natsCluster?: NatsClusterHandle;
  mongo?: MongoServerHandle;
  natsUrl: string;
  tickets: ServiceProcess[];
  orders: ServiceProcess[];
  stop(): Promise<void>;
}

/**
 * The whole system on one machine: nats-server, a MongoDB-protocol server, tickets, N copies of
 * orders, and a gateway serving both APIs on one origin. Used by `npm start` and the e2e tests.
 */
export async function startStack(options: StackOptions): Promise<Stack> {
  const root = repoRoot();
  const dataDir = options.dataDir;
  const clustered = !options.natsUrl && options.natsNodes !== undefined;
  const natsCluster = clustered
    ? await startNatsCluster({ nodes: options.natsNodes ?? 1, dataDir: dataDir && path.join(dataDir, `nats-${options.natsNodes}-nodes`) })
    : undefined;
  const nats = options.natsUrl || clustered ? undefined : await startNatsServer({ storeDir: dataDir && path.join(dataDir, 'nats') });
  const mongo = options.mongoUrl ? undefined : await startMongoServer({ dataDir: dataDir && path.join(dataDir, 'mongo') });
  const natsUrl = options.natsUrl ?? natsCluster?.url ?? nats!.url;
  // Each service logs in as the user of its name, as in the Kubernetes manifests.
  const natsEnv = (service: string): NodeJS.ProcessEnv =>
    natsCluster
      ? { NATS_USER: service, NATS_PASSWORD: natsCluster.credentials[service], JETSTREAM_REPLICAS: String(natsCluster.nodes.length) }
      : {};
  const mongoServer = options.mongoUrl ?? mongo!.url;
  const prefix = options.databasePrefix ?? '';

  const make = async (service: 'tickets' | 'orders', index: number) =>
    new ServiceProcess({
      name: `${service}-${index}`,
      entry: path.join(root, service, 'dist', 'main.js'),
      port: await freePort(),
      log: options.logDir === 'inherit' ? 'inherit' : path.join(options.logDir, `${service}-${index}.log`),
      env: {
        MONGO_URL: databaseUrl(mongoServer, `${prefix}${service}`),
        NATS_URL: natsUrl,
        JWT_KEY: options.jwtKey,
        ...natsEnv(service),
        ...options.serviceEnv,
      },
    });
  const tickets = await Promise.all(Array.from({ length: options.ticketsReplicas ?? 1 }, (_, i) => make('tickets', i)));
  const orders = await Promise.all(Array.from({ length: options.ordersReplicas ?? 1 }, (_, i) => make('orders', i)));
  const all = [...tickets, ...orders];
  const stopServers = async () => {
    await natsCluster?.stop();
    await nats?.stop();
    await mongo?.stop();
  };
  try {
    await Promise.all(all.map((p) => p.start()));
  } catch (err) {
    await Promise.all(all.map((p) => p.stop()));
    await stopServers();
    throw err;
  }

  const running = (copies: ServiceProcess[]) => () => copies.filter((p) => p.running).map((p) => p.url);
  const gateway = createGateway([
    { prefix: '/api/tickets', upstreams: running(tickets), byRecord: true },
    { prefix: '/api/orders', upstreams: running(orders) },
  ]);
  await new Promise<void>((resolve, reject) => {
    gateway.once('error', reject);
    gateway.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = gateway.address() as AddressInfo;

  return {
    url: `http://localhost:${port}`,
    nats,
    natsCluster,
    mongo,
    natsUrl,
    tickets,
    orders,
    stop: async () => {
      await closeServer(gateway);
      await Promise.all(all.map((p) => p.stop()));
      await stopServers();
      if (!dataDir) {
        await nats?.destroy();
        await natsCluster?.destroy();
        await mongo?.destroy();
      }
    },
  };
}

function closeServer(server: http.Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}
