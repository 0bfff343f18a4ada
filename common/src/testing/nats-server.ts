import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ChildServer } from './child-server';
import { findBinary } from './local-paths';
import { freePort } from './net';

export interface NatsServerHandle {
  url: string;
  port: number;
  /** The server's process id while it runs. */
  pid(): number | undefined;
  /** Stops the server; its JetStream data stays, so `start()` brings the same streams back. */
  stop(): Promise<void>;
  start(): Promise<void>;
  restart(): Promise<void>;
  /** Stops the server and deletes its data. */
  destroy(): Promise<void>;
}

/** A real `nats-server` with JetStream, on a free loopback port, storing in a temp dir. */
export async function startNatsServer(options: { storeDir?: string; port?: number } = {}): Promise<NatsServerHandle> {
  const port = options.port ?? (await freePort());
  const storeDir = options.storeDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'ticketing-nats-'));
  const server = new ChildServer(
    'nats-server',
    findBinary('nats-server'),
    ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', storeDir],
    port,
  );
  await server.start();
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    pid: () => server.pid,
    stop: () => server.stop(),
    start: () => server.start(),
    restart: () => server.restart(),
    destroy: async () => {
      await server.stop();
      if (!options.storeDir) fs.rmSync(storeDir, { recursive: true, force: true });
    },
  };
}
