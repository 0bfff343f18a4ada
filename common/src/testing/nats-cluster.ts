import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { ChildServer } from './child-server';
import { waitFor } from './helpers';
import { findBinary, repoRoot } from './local-paths';
import { freePort } from './net';

/**
 * The NATS cluster of the Kubernetes manifests, run on loopback: each node's config is the one in
 * the `nats-config` ConfigMap of infra/k8s/nats.yaml with only host names, ports and the store
 * directory substituted (see {@link localNatsConfig}), so what the tests run is what is deployed.
 * Users and permissions come along unchanged; their passwords are environment variables there
 * (`password: $TICKETS_NATS_PASSWORD`), generated here for each run.
 */

export const NATS_MANIFEST = path.join('infra', 'k8s', 'nats.yaml');

/** The `nats.conf` of the `nats-config` ConfigMap in infra/k8s/nats.yaml. */
export function deployedNatsConfig(root = repoRoot()): string {
  const text = fs.readFileSync(path.join(root, NATS_MANIFEST), 'utf8');
  for (const document of parseAllDocuments(text)) {
    const doc = document.toJS() as { kind?: string; metadata?: { name?: string }; data?: Record<string, string> } | null;
    if (doc?.kind === 'ConfigMap' && doc.metadata?.name === 'nats-config' && doc.data?.['nats.conf']) return doc.data['nats.conf'];
  }
  throw new Error(`${NATS_MANIFEST} has no ConfigMap nats-config with a nats.conf`);
}

/** Users and the environment variable each one's password is read from (`password: $VAR`). */
export function natsUsers(config: string): { user: string; passwordVariable: string }[] {
  const users = [...config.matchAll(/user:\s*"?([\w-]+)"?[\s,]+password:\s*\$(\w+)/g)].map((m) => ({ user: m[1], passwordVariable: m[2] }));
  if (users.length === 0) throw new Error('the NATS config defines no user with `password: $VARIABLE`');
  return users;
}

export interface NodeAddress {
  clientPort: number;
  clusterPort: number;
  monitorPort: number;
}

/** Replaces exactly `count` matches of `pattern`, or says which part of the deployed config moved. */
function substitute(text: string, pattern: RegExp, replace: (match: RegExpExecArray) => string, what: string, count?: number): string {
  const matches = [...text.matchAll(new RegExp(pattern.source, pattern.flags.includes('g') ? pattern.flags : pattern.flags + 'g'))];
  if (matches.length === 0 || (count !== undefined && matches.length !== count)) {
    throw new Error(
      `the NATS config in ${NATS_MANIFEST} no longer has ${count ?? 'a'} ${what} where the local cluster substitutes it (found ${matches.length}): update localNatsConfig`,
    );
  }
  let result = '';
  let last = 0;
  for (const match of matches) {
    result += text.slice(last, match.index) + replace(match as RegExpExecArray);
    last = (match.index ?? 0) + match[0].length;
  }
  return result + text.slice(last);
}

/** The body of the top-level block `name { ... }`, with its start and end offsets. */
function blockRange(text: string, name: string): { start: number; end: number } | undefined {
  const start = new RegExp(`^\\s*${name}\\s*[:=]?\\s*\\{`, 'm').exec(text);
  if (!start) return undefined;
  let depth = 0;
  for (let i = start.index + start[0].length - 1; i < text.length; i++) {
    if (text[i] === '{') depth++;
    if (text[i] === '}' && --depth === 0) return { start: start.index, end: i + 1 };
  }
  throw new Error(`unclosed block ${name} in the NATS config`);
}

/**
 * How the local nodes reach each other and their clients, when a test puts fault proxies in
 * between (the loopback stand-in for the network).
 */
export interface LocalNetwork {
  /** `host:port` node `from` reaches node `to`'s route port at (default: that port itself). */
  routeAddress?(from: number, to: number): string;
  /**
   * Don't tell clients the nodes' own addresses (`no_advertise`), so that a client only ever uses
   * the addresses it was given: its fault proxies, which it would otherwise bypass on a reconnect.
   */
  hideClientAddresses?: boolean;
}

/**
 * The deployed config for node `index` of `nodes` on loopback: it listens on 127.0.0.1 and its own
 * ports, stores in `storeDir`, and its routes name the other local nodes instead of
 * `nats-<i>.<service>`. A single node drops the cluster block (a JetStream node with peers it
 * never finds has no quorum). Everything else stays as deployed, but for what `network` asks.
 */
export function localNatsConfig(
  deployed: string,
  nodes: NodeAddress[],
  index: number,
  storeDir: string,
  network: LocalNetwork = {},
): string {
  const me = nodes[index];
  let text = substitute(deployed, /^port:[ \t]*\d+[ \t]*$/m, () => `host: 127.0.0.1\nport: ${me.clientPort}`, 'top-level client port', 1);
  text = substitute(text, /^http_port:[ \t]*\d+[ \t]*$/m, () => `http: 127.0.0.1:${me.monitorPort}`, 'monitoring port', 1);
  text = substitute(
    text,
    /^([ \t]*)store_dir:[ \t]*\S+[ \t]*$/m,
    (m) => `${m[1]}store_dir: ${JSON.stringify(storeDir)}`,
    'JetStream store_dir',
    1,
  );
  const cluster = blockRange(text, 'cluster');
  if (!cluster) throw new Error(`the NATS config in ${NATS_MANIFEST} has no cluster block`);
  let block = text.slice(cluster.start, cluster.end);
  if (nodes.length === 1) return text.slice(0, cluster.start) + text.slice(cluster.end);
  block = substitute(block, /^([ \t]+)port:[ \t]*\d+[ \t]*$/m, (m) => `${m[1]}listen: 127.0.0.1:${me.clusterPort}`, 'cluster port', 1);
  block = substitute(
    block,
    /nats:\/\/[\w-]+-(\d+)\.[\w.-]+:\d+/,
    (m) => {
      const peer = nodes[Number(m[1])];
      if (!peer) throw new Error(`the deployed routes name node ${m[1]}, but the local cluster has ${nodes.length} nodes`);
      const peerIndex = Number(m[1]);
      // Its own route is ignored by the server: never through a proxy.
      const address =
        network.routeAddress && peerIndex !== index ? network.routeAddress(index, peerIndex) : `127.0.0.1:${peer.clusterPort}`;
      return `nats://${address}`;
    },
    'route per node',
    nodes.length,
  );
  if (network.hideClientAddresses) block = block.replace(/\}\s*$/, '  no_advertise: true\n}');
  return text.slice(0, cluster.start) + block + text.slice(cluster.end);
}

export interface NatsNode {
  name: string;
  url: string;
  monitorUrl: string;
  pid(): number | undefined;
  running(): boolean;
  /** SIGTERM (or the signal given); its JetStream data stays for `start()`. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  start(): Promise<void>;
}

export interface NatsClusterHandle {
  nodes: NatsNode[];
  /** Every node's URL, comma-separated (NATS_URL). */
  url: string;
  /** user → password, for every user of the config (tickets, orders, admin). */
  credentials: Record<string, string>;
  /** The name of the server leading a stream's replicas (asked of a running node's monitoring). */
  streamLeader(stream: string): Promise<string | undefined>;
  /** The running nodes a user has a client connection to. */
  nodesOf(user: string): Promise<NatsNode[]>;
  /** What each running node's replica of a stream holds (asked of that node's monitoring). */
  streamReplicas(stream: string): Promise<StreamReplica[]>;
  stop(): Promise<void>;
  /** Stops every node and deletes its data (unless the data dir was given). */
  destroy(): Promise<void>;
}

export interface StreamReplica {
  node: string;
  messages: number;
  lastSeq: number;
}

export interface NatsClusterOptions {
  nodes: number;
  /** Keeps each node's store under `<dataDir>/<node name>`; a temp dir otherwise. */
  dataDir?: string;
  /** Passwords by user; the missing ones are generated. */
  passwords?: Record<string, string>;
  /**
   * Called once the nodes' ports are chosen, before they start: how they reach each other and
   * their clients (e.g. a Toxiproxy proxy per route, to cut a node off from its peers).
   */
  network?(addresses: NodeAddress[]): Promise<LocalNetwork>;
}

/** Starts the deployed NATS config as `nodes` local nodes and waits until JetStream is ready on all. */
export async function startNatsCluster(options: NatsClusterOptions): Promise<NatsClusterHandle> {
  const deployed = deployedNatsConfig();
  const users = natsUsers(deployed);
  const credentials = Object.fromEntries(users.map(({ user }) => [user, options.passwords?.[user] ?? natsPassword()]));
  const env = Object.fromEntries(users.map(({ user, passwordVariable }) => [passwordVariable, credentials[user]]));
  const dataDir = options.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'ticketing-nats-cluster-'));
  const addresses: NodeAddress[] = [];
  for (let i = 0; i < options.nodes; i++)
    addresses.push({ clientPort: await freePort(), clusterPort: await freePort(), monitorPort: await freePort() });

  const network = (await options.network?.(addresses)) ?? {};
  const nodes = addresses.map((address, index) => {
    const name = `nats-${index}`;
    const storeDir = path.join(dataDir, name);
    fs.mkdirSync(storeDir, { recursive: true });
    const configFile = path.join(dataDir, `${name}.conf`);
    fs.writeFileSync(configFile, localNatsConfig(deployed, addresses, index, storeDir, network));
    // POD_NAME: the deployed config names each server after its pod.
    const server = new ChildServer(name, findBinary('nats-server'), ['--config', configFile], address.clientPort, {
      ...env,
      POD_NAME: name,
    });
    const node: NatsNode = {
      name,
      url: `nats://127.0.0.1:${address.clientPort}`,
      monitorUrl: `http://127.0.0.1:${address.monitorPort}`,
      pid: () => server.pid,
      running: () => server.running,
      stop: (signal) => server.stop(signal),
      start: () => server.start(),
    };
    return node;
  });

  const handle: NatsClusterHandle = {
    nodes,
    url: nodes.map((n) => n.url).join(','),
    credentials,
    streamLeader: async (stream) => {
      for (const node of nodes.filter((n) => n.running())) {
        const info = await fetch(`${node.monitorUrl}/jsz?streams=true`)
          .then((r) => r.json() as Promise<JszReply>)
          .catch(() => undefined);
        const leader = info?.account_details?.flatMap((a) => a.stream_detail ?? []).find((s) => s.name === stream)?.cluster?.leader;
        if (leader) return leader;
      }
      return undefined;
    },
    streamReplicas: async (stream) => {
      const replicas = await Promise.all(
        nodes
          .filter((n) => n.running())
          .map(async (node): Promise<StreamReplica[]> => {
            const info = await fetch(`${node.monitorUrl}/jsz?streams=true`)
              .then((r) => r.json() as Promise<JszReply>)
              .catch(() => undefined);
            const state = info?.account_details?.flatMap((a) => a.stream_detail ?? []).find((s) => s.name === stream)?.state;
            return state ? [{ node: node.name, messages: state.messages, lastSeq: state.last_seq }] : [];
          }),
      );
      return replicas.flat();
    },
    nodesOf: async (user) => {
      const connected = await Promise.all(
        nodes
          .filter((n) => n.running())
          .map((n) =>
            fetch(`${n.monitorUrl}/connz?auth=true`)
              .then((r) => r.json() as Promise<{ connections?: { authorized_user?: string }[] }>)
              .then(
                (c) => (c.connections ?? []).some((conn) => conn.authorized_user === user),
                () => false,
              ),
          ),
      );
      return nodes.filter((n) => n.running()).filter((_, i) => connected[i]);
    },
    stop: async () => {
      await Promise.all(nodes.map((n) => n.stop()));
    },
    destroy: async () => {
      await handle.stop();
      if (!options.dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
  try {
    await Promise.all(nodes.map((n) => n.start()));
    await waitForJetStream(nodes);
  } catch (err) {
    await handle.destroy();
    throw err;
  }
  return handle;
}

interface JszReply {
  account_details?: {
    stream_detail?: { name: string; cluster?: { leader?: string }; state?: { messages: number; last_seq: number } }[];
  }[];
}

/** Until every running node says JetStream is up (in a cluster: the meta group has a leader). */
export async function waitForJetStream(nodes: NatsNode[], timeoutMs = 60_000): Promise<void> {
  await waitFor(
    async () => {
      const answers = await Promise.all(
        nodes
          .filter((n) => n.running())
          .map((n) =>
            fetch(`${n.monitorUrl}/healthz`).then(
              (r) => r.ok,
              () => false,
            ),
          ),
      );
      return answers.every(Boolean);
    },
    { timeoutMs, intervalMs: 100, what: 'JetStream on every NATS node' },
  );
}

/**
 * A random password nats-server can read from an environment variable: it parses the variable's
 * value as a config token, so one that starts with a digit is taken for a number and refused
 * ("Expected a digit but got …"). A letter first, then hex.
 */
export function natsPassword(): string {
  return `p${crypto.randomBytes(18).toString('hex')}`;
}
