import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ChildServer } from './child-server';
import { findBinary } from './local-paths';
import { freePort } from './net';

export const TEST_STAN_CLUSTER_ID = 'ticketing';

export interface StanServerHandle {
  url: string;
  port: number;
  clusterId: string;
  /** The HTTP monitoring endpoint (`/streaming/channelsz`…). */
  monitorUrl: string;
  pid(): number | undefined;
  /** Stops the server; its file store stays, so `start()` brings channels, clients and durables back. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  start(): Promise<void>;
  restart(): Promise<void>;
  /** Stops the server and deletes its data. */
  destroy(): Promise<void>;
  /** Stops the server, deletes its data and starts it empty on the same ports. */
  reset(): Promise<void>;
}

/**
 * A real `nats-streaming-server` (file store in a temp dir) on free loopback ports. The server
 * checks its clients every second and drops one after two missed heartbeats, so that tests of a
 * lost connection take seconds, not the default minutes.
 */
export async function startStanServer(
  options: {
    storeDir?: string;
    port?: number;
    clusterId?: string;
    /** How the server checks its clients: every `interval`, dropping one after `failCount` misses. */
    heartbeat?: { interval: string; timeout: string; failCount: number };
  } = {},
): Promise<StanServerHandle> {
  const port = options.port ?? (await freePort());
  const monitorPort = await freePort();
  const clusterId = options.clusterId ?? TEST_STAN_CLUSTER_ID;
  const storeDir = options.storeDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'ticketing-stan-'));
  const args = [
    ...['-a', '127.0.0.1', '-p', String(port), '-m', String(monitorPort)],
    ...['-cid', clusterId, '-st', 'FILE', '--dir', storeDir],
    // The store's default limits drop old messages past 1,000,000 per channel: keep everything.
    ...['-mm', '0', '-mb', '0'],
    ...heartbeatArgs(options.heartbeat ?? { interval: '1s', timeout: '1s', failCount: 2 }),
  ];
  const server = new ChildServer('nats-streaming-server', findBinary('nats-streaming-server'), args, port);
  await server.start();
  const monitorUrl = `http://127.0.0.1:${monitorPort}`;
  await waitForStreaming(monitorUrl);
  const start = async () => {
    await server.start();
    await waitForStreaming(monitorUrl);
  };
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    clusterId,
    monitorUrl,
    pid: () => server.pid,
    stop: (signal) => server.stop(signal),
    start,
    restart: async () => {
      await server.stop();
      await start();
    },
    destroy: async () => {
      await server.stop();
      if (!options.storeDir) fs.rmSync(storeDir, { recursive: true, force: true });
    },
    reset: async () => {
      await server.stop();
      fs.rmSync(storeDir, { recursive: true, force: true });
      fs.mkdirSync(storeDir, { recursive: true });
      await start();
    },
  };
}

function heartbeatArgs(hb: { interval: string; timeout: string; failCount: number }): string[] {
  return ['-hbi', hb.interval, '-hbt', hb.timeout, '-hbf', String(hb.failCount)];
}

/** The NATS port answers before the streaming layer has recovered its store: wait for that too. */
async function waitForStreaming(monitorUrl: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      const res = await fetch(`${monitorUrl}/streaming/serverz`);
      if (res.ok && ((await res.json()) as { state?: string }).state === 'STANDALONE') return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`nats-streaming-server did not become ready (${monitorUrl})`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface StanChannelInfo {
  name: string;
  msgs: number;
  last_seq: number;
  subscriptions?: {
    client_id: string;
    queue_name?: string;
    is_durable: boolean;
    is_offline: boolean;
    pending_count: number;
    last_sent: number;
  }[];
}

/** A channel as the server's monitoring reports it, with its subscriptions; null if it does not exist. */
export async function stanChannel(monitorUrl: string, channel: string): Promise<StanChannelInfo | null> {
  const res = await fetch(`${monitorUrl}/streaming/channelsz?channel=${encodeURIComponent(channel)}&subs=1`);
  if (res.status === 404) return null;
  if (!res.ok) throw new Error(`channelsz ${channel}: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as StanChannelInfo;
}

/** The client ids the server holds. */
export async function stanClients(monitorUrl: string): Promise<string[]> {
  const res = await fetch(`${monitorUrl}/streaming/clientsz?limit=1024`);
  const body = (await res.json()) as { clients?: { id: string }[] };
  return (body.clients ?? []).map((c) => c.id);
}
