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
  startStanServer,
  TEST_STAN_CLUSTER_ID,
  type MongoServerHandle,
  type NatsClusterHandle,
  type NatsServerHandle,
  type StanServerHandle,
  type EventBusKind,
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
  /** A running cluster to use (its users, its replicas) instead of starting one; left running. */
  natsCluster?: NatsClusterHandle;
  /**
   * Per service, the NATS and MongoDB servers it is given instead of the stack's: its own links,
   * e.g. through fault proxies that hit one service only.
   */
  links?: Partial<Record<'tickets' | 'orders', { natsUrl?: string; mongoUrl?: string }>>;
  jwtKey: string;
  /** Keeps data between runs (the start command); a temp dir otherwise. */
  dataDir?: string;
  /** Where each service's log goes: a folder, or 'inherit'. */
  logDir: string | 'inherit';
  /** Database name prefix, so several stacks can share a MongoDB server. */
  databasePrefix?: string;
  serviceEnv?: NodeJS.ProcessEnv;
  /** The event transport (default JetStream): which server is started and what the services are told. */
  eventBus?: EventBusKind;
  /** The web app's development sign-in (on by default here: it is the local stack). */
  devSignIn?: boolean;
}

export interface Stack {
  url: string;
  /** The event server this stack started: nats-server, or nats-streaming-server. */
  nats?: NatsServerHandle;
  /** With `natsNodes`: the nodes, and the passwords of the config's users (admin included). */
  natsCluster?: NatsClusterHandle;
  mongo?: MongoServerHandle;
  eventBus: EventBusKind;
  /** The same server as `nats` when it is a nats-streaming-server, with its monitoring address. */
  stan?: StanServerHandle;
  natsUrl: string;
  tickets: ServiceProcess[];
  orders: ServiceProcess[];
  /** The web app's server (the page, the sign-in), served at `/`. */
  web: ServiceProcess;
  stop(): Promise<void>;
}

/**
 * The whole system on one machine: nats-server, a MongoDB-protocol server, tickets, N copies of
 * orders, the web app, and a gateway serving both APIs and the app on one origin. Used by
 * `npm start` and the e2e tests.
 */
export async function startStack(options: StackOptions): Promise<Stack> {
  const root = repoRoot();
  const dataDir = options.dataDir;
  const eventBus = options.eventBus ?? 'jetstream';
  const clustered = !options.natsUrl && !options.natsCluster && options.natsNodes !== undefined;
  if ((clustered || options.natsCluster) && eventBus !== 'jetstream')
    throw new Error('a NATS cluster (natsNodes) runs JetStream: it does not go with nats-streaming');
  const ownCluster = clustered
    ? await startNatsCluster({ nodes: options.natsNodes ?? 1, dataDir: dataDir && path.join(dataDir, `nats-${options.natsNodes}-nodes`) })
    : undefined;
  const natsCluster = ownCluster ?? options.natsCluster;
  const nats = options.natsUrl || natsCluster ? undefined : await startEventServer(eventBus, dataDir);
  const stan = nats && 'monitorUrl' in nats ? (nats as StanServerHandle) : undefined;
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
        MONGO_URL: databaseUrl(options.links?.[service]?.mongoUrl ?? mongoServer, `${prefix}${service}`),
        NATS_URL: options.links?.[service]?.natsUrl ?? natsUrl,
        JWT_KEY: options.jwtKey,
        EVENT_BUS: eventBus,
        ...(eventBus === 'nats-streaming'
          ? { STAN_CLUSTER_ID: nats ? TEST_STAN_CLUSTER_ID : (process.env.STAN_CLUSTER_ID ?? 'ticketing') }
          : {}),
        ...natsEnv(service),
        ...options.serviceEnv,
      },
    });
  const tickets = await Promise.all(Array.from({ length: options.ticketsReplicas ?? 1 }, (_, i) => make('tickets', i)));
  const orders = await Promise.all(Array.from({ length: options.ordersReplicas ?? 1 }, (_, i) => make('orders', i)));
  const web = new ServiceProcess({
    name: 'web',
    entry: path.join(root, 'web', 'dist', 'server', 'main.js'),
    port: await freePort(),
    log: options.logDir === 'inherit' ? 'inherit' : path.join(options.logDir, 'web.log'),
    env: { JWT_KEY: options.jwtKey, DEV_SIGN_IN: String(options.devSignIn ?? true), ...options.serviceEnv },
  });
  const all = [...tickets, ...orders, web];
  const stopServers = async () => {
    await ownCluster?.stop();
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
    // everything else is the web app: the page, its files, /auth/…
    { prefix: '', upstreams: running([web]) },
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
    eventBus,
    stan,
    natsUrl,
    tickets,
    orders,
    web,
    stop: async () => {
      await closeServer(gateway);
      await Promise.all(all.map((p) => p.stop()));
      await stopServers();
      if (!dataDir) {
        await nats?.destroy();
        await ownCluster?.destroy();
        await mongo?.destroy();
      }
    },
  };
}

function startEventServer(eventBus: EventBusKind, dataDir: string | undefined): Promise<NatsServerHandle | StanServerHandle> {
  if (eventBus === 'jetstream') return startNatsServer({ storeDir: dataDir && path.join(dataDir, 'nats') });
  // A copy that died is dropped by the server within seconds (every 2 s, 3 misses), so that the
  // events it held go to the other copies soon, not after the default minutes.
  return startStanServer({
    storeDir: dataDir && path.join(dataDir, 'nats-streaming'),
    heartbeat: { interval: '2s', timeout: '2s', failCount: 3 },
  });
}

function closeServer(server: http.Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}
