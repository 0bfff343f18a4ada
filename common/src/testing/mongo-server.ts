import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ChildServer } from './child-server';
import { findBinary, localDir } from './local-paths';
import { freePort } from './net';

export type MongoKind = 'external' | 'mongod' | 'ferretdb';

export interface MongoServerHandle {
  kind: MongoKind;
  /** `mongodb://host:port` without a database: add one per test file with {@link databaseUrl}. */
  url: string;
  /** The server's process id while it runs (none for an external server). */
  pid(): number | undefined;
  /** Stops the server, keeping its data (not possible for an external server). */
  stop(): Promise<void>;
  start(): Promise<void>;
  destroy(): Promise<void>;
}

/**
 * Which MongoDB-protocol server to use (infra/local/ferretdb/README.md says why): `MONGO_URL` if
 * set; a real mongod through mongodb-memory-server if one could be obtained
 * (`infra/local/provision.mjs` records it); otherwise the FerretDB stand-in it built.
 */
export function chooseMongo(env: NodeJS.ProcessEnv = process.env): { kind: MongoKind; binary?: string; url?: string } {
  if (env.MONGO_URL) return { kind: 'external', url: env.MONGO_URL };
  const recorded = localDir('mongo.json');
  if (fs.existsSync(recorded)) {
    const choice = JSON.parse(fs.readFileSync(recorded, 'utf8')) as { kind: MongoKind; binary?: string };
    if (choice.kind === 'mongod' && choice.binary && fs.existsSync(choice.binary)) return choice;
  }
  return { kind: 'ferretdb', binary: findBinary('ferretdb') };
}

export async function startMongoServer(
  options: { dataDir?: string; port?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<MongoServerHandle> {
  const choice = chooseMongo(options.env);
  if (choice.kind === 'external') {
    const url = serverUrl(choice.url!);
    const noop = async () => undefined;
    return { kind: 'external', url, pid: () => undefined, stop: noop, start: noop, destroy: noop };
  }
  const port = options.port ?? (await freePort());
  const dataDir = options.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), `ticketing-${choice.kind}-`));
  fs.mkdirSync(dataDir, { recursive: true });
  const args =
    choice.kind === 'mongod'
      ? ['--port', String(port), '--bind_ip', '127.0.0.1', '--dbpath', dataDir, '--quiet']
      : ['-listen', `127.0.0.1:${port}`, '-dir', dataDir];
  const server = new ChildServer(choice.kind, choice.binary!, args, port);
  await server.start();
  return {
    kind: choice.kind,
    url: `mongodb://127.0.0.1:${port}`,
    pid: () => server.pid,
    stop: () => server.stop(),
    start: () => server.start(),
    destroy: async () => {
      await server.stop();
      if (!options.dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A MongoDB URL without its database (`mongodb://h:1/db?x=1` → `mongodb://h:1/?x=1`). */
export function serverUrl(url: string): string {
  const match = url.match(/^(mongodb(?:\+srv)?:\/\/[^/?]+)(?:\/[^?]*)?(\?.*)?$/);
  return match ? match[1] + (match[2] ? `/${match[2]}` : '') : url;
}

/** The server URL with a database name appended. */
export function databaseUrl(server: string, database: string): string {
  const [base, query] = server.split('?');
  return `${base.replace(/\/$/, '')}/${database}${query ? `?${query}` : ''}`;
}

let counter = 0;
/** A database name unique to this test file and call. */
export function uniqueDatabaseName(prefix = 'test'): string {
  return `${prefix}_${process.pid}_${Date.now().toString(36)}_${counter++}`.replace(/[^A-Za-z0-9_]/g, '_');
}
