#!/usr/bin/env node
// Provisions the backing servers for tests and the local stack, into the git-ignored .local/:
//   - nats-server (JetStream), built from its Go module;
//   - nats-streaming-server (the optional NATS Streaming transport, docs/nats-streaming.md), likewise;
//   - toxiproxy-server (network faults in the e2e tests), built from its Go module;
//   - a MongoDB-protocol server: a real mongod obtained by mongodb-memory-server when it can be
//     downloaded, otherwise FerretDB on SQLite built from infra/local/ferretdb (see its README.md).
// Fast when already done. Skips MongoDB entirely when MONGO_URL is set.
// Options: --retry-mongod  try downloading mongod again even if FerretDB was chosen before.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const NATS_MODULE = 'github.com/nats-io/nats-server/v2';
const NATS_VERSION = 'v2.15.2';
// NATS Streaming is end-of-life upstream: v0.25.6 is its last server.
const STAN_MODULE = 'github.com/nats-io/nats-streaming-server';
const STAN_VERSION = 'v0.25.6';
const TOXIPROXY_MODULE = 'github.com/Shopify/toxiproxy/v2/cmd/server';
const TOXIPROXY_VERSION = '2.5.0';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const bin = path.join(root, '.local', 'bin');
const mongoChoiceFile = path.join(root, '.local', 'mongo.json');
fs.mkdirSync(bin, { recursive: true });

const say = (line) => process.stdout.write(`provision: ${line}\n`);

function requireGo(what) {
  const go = spawnSync('go', ['version'], { encoding: 'utf8' });
  if (go.status !== 0) {
    console.error(`provision: Go is needed to build ${what} (https://go.dev/dl), or put ${what} on PATH`);
    process.exit(1);
  }
}

function goBuild(what, args, cwd) {
  requireGo(what);
  say(`building ${what} (first time only, about a minute)…`);
  execFileSync('go', args, { cwd, stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, GOBIN: bin, CGO_ENABLED: '0' } });
}

function natsServer() {
  const target = path.join(bin, 'nats-server');
  if (fs.existsSync(target)) {
    const version = spawnSync(target, ['--version'], { encoding: 'utf8' }).stdout ?? '';
    if (version.includes(NATS_VERSION)) return say(`nats-server ${NATS_VERSION} ready`);
  }
  goBuild('nats-server', ['install', `${NATS_MODULE}@${NATS_VERSION}`], root);
  say(`nats-server ${NATS_VERSION} built`);
}

function natsStreamingServer() {
  const target = path.join(bin, 'nats-streaming-server');
  if (fs.existsSync(target)) {
    const version = spawnSync(target, ['--version'], { encoding: 'utf8' }).stdout ?? '';
    // It prints "nats-streaming-server version 0.25.6, nats-server: v2.9.24".
    if (version.includes(`version ${STAN_VERSION.slice(1)},`)) return say(`nats-streaming-server ${STAN_VERSION} ready`);
  }
  goBuild('nats-streaming-server', ['install', `${STAN_MODULE}@${STAN_VERSION}`], root);
  say(`nats-streaming-server ${STAN_VERSION} built`);
}

// `go install` names the binary after its package folder ("server"): built aside, then renamed.
// A module build prints "version git", so the version built is noted beside it.
function toxiproxy() {
  const target = path.join(bin, 'toxiproxy-server');
  const versionFile = `${target}.version`;
  if (fs.existsSync(target) && fs.existsSync(versionFile) && fs.readFileSync(versionFile, 'utf8').trim() === TOXIPROXY_VERSION) {
    return say(`toxiproxy ${TOXIPROXY_VERSION} ready`);
  }
  const aside = fs.mkdtempSync(path.join(root, '.local', 'toxiproxy-'));
  requireGo('toxiproxy');
  say('building toxiproxy (first time only, about a minute)…');
  execFileSync('go', ['install', `${TOXIPROXY_MODULE}@v${TOXIPROXY_VERSION}`], {
    cwd: root,
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, GOBIN: aside, CGO_ENABLED: '0' },
  });
  fs.renameSync(path.join(aside, 'server'), target);
  fs.rmSync(aside, { recursive: true, force: true });
  fs.writeFileSync(versionFile, TOXIPROXY_VERSION);
  say(`toxiproxy ${TOXIPROXY_VERSION} built`);
}

function ferretdb() {
  const target = path.join(bin, 'ferretdb');
  const source = path.join(here, 'ferretdb');
  const newest = Math.max(...fs.readdirSync(source).map((f) => fs.statSync(path.join(source, f)).mtimeMs));
  if (fs.existsSync(target) && fs.statSync(target).mtimeMs >= newest) return say('ferretdb ready');
  requireGo('ferretdb');
  say('building ferretdb (first time only, about a minute)…');
  execFileSync('go', ['build', '-o', target, '.'], {
    cwd: source,
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, CGO_ENABLED: '0' },
  });
  say('ferretdb built');
}

async function obtainMongod() {
  const require = createRequire(path.join(root, 'common', 'package.json'));
  const { MongoBinary } = require('mongodb-memory-server-core');
  const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error('timed out')), 120_000).unref());
  return Promise.race([MongoBinary.getPath(), timeout]);
}

async function mongo() {
  if (process.env.MONGO_URL) return say('MONGO_URL is set: using it, no local MongoDB needed');
  const retry = process.argv.includes('--retry-mongod');
  const previous = fs.existsSync(mongoChoiceFile) ? JSON.parse(fs.readFileSync(mongoChoiceFile, 'utf8')) : null;
  if (previous?.kind === 'mongod' && fs.existsSync(previous.binary)) return say(`mongod ready (${previous.binary})`);
  if (!previous || retry) {
    try {
      const binary = await obtainMongod();
      fs.writeFileSync(mongoChoiceFile, JSON.stringify({ kind: 'mongod', binary }, null, 2));
      return say(`mongod ready (${binary})`);
    } catch (err) {
      say(`mongod could not be obtained (${String(err.message).split('\n')[0]}): using the FerretDB stand-in`);
    }
  }
  ferretdb();
  fs.writeFileSync(mongoChoiceFile, JSON.stringify({ kind: 'ferretdb' }, null, 2));
}

/**
 * The real browser the web app's end-to-end tests drive: Debian's chromium (playwright-core
 * downloads no browser of its own here). apt needs root; otherwise say what to run.
 */
function chromium() {
  const target = '/usr/bin/chromium';
  if (fs.existsSync(target)) return say(`chromium ready (${target})`);
  if (process.getuid?.() !== 0) {
    say('chromium is missing and this is not root: run `apt-get update && apt-get install -y chromium` (the browser tests need it)');
    return;
  }
  say('installing chromium with apt (first time only)…');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update'], { stdio: ['ignore', 'ignore', 'inherit'], env });
  execFileSync('apt-get', ['install', '-y', 'chromium'], { stdio: ['ignore', 'ignore', 'inherit'], env });
  say(`chromium installed (${target})`);
}

natsServer();
natsStreamingServer();
toxiproxy();
await mongo();
chromium();
