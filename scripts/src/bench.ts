#!/usr/bin/env node
/**
 * `npm run bench`: measures, in one run on this machine, the raw limits of the bus and the
 * database and what the whole system achieves on top of them, and prints a table and ratios.
 */
import os from 'node:os';
import fs from 'node:fs';
import path from 'node:path';
import { signToken } from '@ticketing/common';
import { databaseUrl, EVENT_BUSES } from '@ticketing/common/testing';
import { startStack } from './stack/stack';
import { percentile } from './stress/percentiles';
import { benchRawJetStream } from './bench/raw-jetstream';
import { benchRawStan } from './bench/raw-stan';
import { benchRawMongo } from './bench/raw-mongo';
import { benchDatabaseWork } from './bench/database-work';
import { benchEndToEndThroughput, benchLag } from './bench/end-to-end';
import { withCpuShare } from './bench/cpu-share';
import { runStressCli } from './bench/stress-cli';
import { benchTracingCost } from './bench/tracing-cost';
import { oneOf, parseCommandLine, wholeNumber } from './cli';

const USAGE = `
Usage: npm run bench -- [options]

Starts its own stack and measures raw JetStream, the raw MongoDB-protocol server, end-to-end
throughput, replication lag at 100 updates/s and at a quarter of the saturation it measured, the
stress CLI in a process of its own (as npm run stress), and end-to-end throughput with tracing off
and on (OpenTelemetry, every span exported); prints a table with ratios and targets.

  --quick                 smaller sizes (a smoke run, figures are rough)
  --stress-iterations N   iterations of the stress step (default 10000; 1000 with --quick)
  --event-bus B           jetstream (default) or nats-streaming: the stack's transport; with
                          nats-streaming, raw NATS Streaming is measured too, next to JetStream
  --json                  print the results as JSON
  --help                  this text
`;

const JWT_KEY = 'bench-jwt-key-not-a-secret';
/**
 * Tickets updated at once in the saturation run (each one's updates one after another). Fewer do
 * not saturate: the services still wait on each other between requests and every message goes
 * alone; more gain nothing (the measurements are in the commit log).
 */
const SATURATION_TICKETS = 256;

async function main() {
  const values = parseCommandLine(USAGE, {
    quick: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    'stress-iterations': { type: 'string' },
    'event-bus': { type: 'string', default: 'jetstream' },
  });
  const eventBus = oneOf('bench', 'event-bus', values['event-bus'], EVENT_BUSES);
  const q = values.quick;
  const stressIterations = values['stress-iterations']
    ? wholeNumber('bench', 'stress-iterations', values['stress-iterations'])
    : q
      ? 1_000
      : 10_000;
  const log = (line: string) => process.stderr.write(line + '\n');
  const logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ticketing-bench-'));
  const stack = await startStack({ jwtKey: JWT_KEY, logDir, serviceEnv: { LOG_LEVEL: 'warn' }, eventBus });
  const token = signToken({ id: 'bench-user', email: 'bench@ticketing.dev' }, JWT_KEY, 3600);
  try {
    // Throughputs are the median of several runs (one with --quick): single runs on a shared
    // machine move by 10–15%, and its speed drifts over minutes. So the database and end-to-end
    // runs alternate, round after round, and each round's ratio compares runs made next to each
    // other; the ratio reported is the median of the rounds'.
    const rounds = q ? 1 : 5;
    log('bench: raw JetStream publish → consume → ack…');
    const jetstreamRuns = await repeat(q ? 1 : 3, () => benchRawJetStream(q ? 5_000 : 50_000));
    const jetstream = median(jetstreamRuns);
    log(`  ${Math.round(jetstream)} msg/s${spread(jetstreamRuns)}`);
    // On NATS Streaming, its raw figure is the bus's limit for the end-to-end ratios below.
    const stan = eventBus === 'nats-streaming' ? await benchStan(q, log) : undefined;
    const rawBus = stan?.msgsPerSec ?? jetstream;
    const pids = {
      [stack.mongo!.kind]: stack.mongo!.pid(),
      nats: stack.nats?.pid(),
      ...Object.fromEntries([...stack.tickets, ...stack.orders].map((s) => [s.options.name, s.pid])),
    };
    const mongoRuns: number[] = [];
    const workRuns: number[] = [];
    const e2eRuns: number[] = [];
    const rawCoreRuns: Record<string, number>[] = [];
    const e2eCoreRuns: Record<string, number>[] = [];
    for (let round = 1; round <= rounds; round++) {
      log(`bench: round ${round} of ${rounds}`);
      const raw = await withCpuShare({ [stack.mongo!.kind]: stack.mongo!.pid() }, () =>
        benchRawMongo(databaseUrl(stack.mongo!.url, 'bench_raw'), q ? 1_000 : 10_000),
      );
      mongoRuns.push(raw.result);
      rawCoreRuns.push(raw.coresUsed);
      log(`  raw MongoDB-protocol versioned updates: ${Math.round(raw.result)} updates/s`);
      const workRun = await benchDatabaseWork((db) => databaseUrl(stack.mongo!.url, db), q ? 1_000 : 6_000);
      workRuns.push(workRun);
      log(`  the database work of end-to-end updates alone: ${Math.round(workRun)} updates/s`);
      const e2eRun = await withCpuShare(pids, () => benchEndToEndThroughput(stack, token, SATURATION_TICKETS, q ? 5 : 30));
      e2eRuns.push(e2eRun.result);
      e2eCoreRuns.push(e2eRun.coresUsed);
      log(`  end-to-end saturation: ${Math.round(e2eRun.result)} updates/s`);
    }
    const mongo = median(mongoRuns);
    const work = median(workRuns);
    const e2e = median(e2eRuns);
    const overSlowerRaw = (runs: number[]) => runs.map((r, i) => round2(r / Math.min(rawBus, mongoRuns[i])));
    const ratios = overSlowerRaw(e2eRuns);
    const workRatios = overSlowerRaw(workRuns);
    const rawCores = averageCores(rawCoreRuns);
    const coresUsed = averageCores(e2eCoreRuns);
    // Per process, largest first; this process (`self`) is the client of the raw run and the load
    // generator with the gateway in the end-to-end run.
    const byProcess = (values: Record<string, number>, self: string) =>
      Object.entries(values)
        .sort((a, b) => b[1] - a[1])
        .map(([name, v]) => `${name === 'self' ? self : name} ${v}`)
        .join(', ');
    const rawCpu = byProcess(rawCores, 'client');
    const cpu = byProcess(coresUsed, 'load generator + gateway');
    // CPU per update, by process: each round's cores over its own throughput (median of the
    // rounds). The database's figure is what one update costs it in each run; the others are what
    // the services take from the same two cores.
    const rawMs = msPerUpdate(rawCoreRuns, mongoRuns);
    const e2eMs = msPerUpdate(e2eCoreRuns, e2eRuns);
    log('bench: replication lag at 100 updates/s…');
    const lag = await benchLag(stack, token, 100, q ? 3 : 15);
    log(`  p50 ${lag.p50} ms, p99 ${lag.p99} ms`);
    // A quarter of this run's saturation: the same share of the machine whatever its speed.
    const quarterRate = Math.max(1, Math.round(e2e / 4));
    log(`bench: replication lag at a quarter of saturation (${quarterRate} updates/s)…`);
    const quarterLag = await benchLag(stack, token, quarterRate, q ? 3 : 15);
    log(`  p50 ${quarterLag.p50} ms, p99 ${quarterLag.p99} ms`);
    log(`bench: the stress CLI in its own process, ${stressIterations} iterations (200 in flight)…`);
    const { summary: stress } = await runStressCli([
      '--url',
      stack.url,
      '--token',
      token,
      '--iterations',
      String(stressIterations),
      '--concurrency',
      '200',
      '--timeout',
      '300',
    ]);
    for (const m of stress.firstMismatches) log(`  mismatch: ${JSON.stringify(m)}`);
    if (Object.keys(stress.httpErrors).length > 0) log(`  HTTP errors: ${JSON.stringify(stress.httpErrors)}`);
    // Last: it restarts the services, with tracing on and off.
    log('bench: end-to-end saturation with tracing off and on (every span sampled, exported over OTLP/HTTP)…');
    const tracingCost = await benchTracingCost(stack, token, {
      rounds: q ? 1 : 5,
      tickets: SATURATION_TICKETS,
      perTicket: q ? 5 : 10,
      log,
    });
    const tracingRatio = median(tracingCost.ratios);
    // What the stress run's elapsed time may be: 1.5 × its writes at this run's saturation.
    const stressBudgetMs = 1.5 * ((stress.writes || 3 * stressIterations) / e2e) * 1000;
    const readShare = stress.reads / Math.max(1, stress.writes);
    const results = {
      machine: `${os.cpus().length} × ${os.cpus()[0]?.model.trim()}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, MongoDB: ${stack.mongo!.kind}`,
      rounds,
      eventBus,
      rawJetStreamMsgsPerSec: Math.round(jetstream),
      rawJetStreamRuns: jetstreamRuns.map(Math.round),
      ...(stan && { rawNatsStreamingMsgsPerSec: Math.round(stan.msgsPerSec), rawNatsStreamingRuns: stan.runs.map(Math.round) }),
      rawMongoUpdatesPerSec: Math.round(mongo),
      rawMongoRuns: mongoRuns.map(Math.round),
      rawMongoCoresUsed: rawCores,
      databaseWorkUpdatesPerSec: Math.round(work),
      databaseWorkRuns: workRuns.map(Math.round),
      databaseWorkOverSlowerRaw: median(workRatios),
      databaseWorkOverSlowerRawByRound: workRatios,
      endToEndUpdatesPerSec: Math.round(e2e),
      endToEndRuns: e2eRuns.map(Math.round),
      endToEndOverSlowerRaw: median(ratios),
      endToEndOverSlowerRawByRound: ratios,
      endToEndCoresUsed: coresUsed,
      cpuMsPerUpdate: { raw: rawMs, endToEnd: e2eMs },
      lagAt100PerSec: lag,
      lagAtQuarterSaturation: { rate: quarterRate, ...quarterLag },
      tracing: {
        offUpdatesPerSec: Math.round(median(tracingCost.off)),
        onUpdatesPerSec: Math.round(median(tracingCost.on)),
        offRuns: tracingCost.off.map(Math.round),
        onRuns: tracingCost.on.map(Math.round),
        onOverOff: tracingRatio,
        onOverOffByRound: tracingCost.ratios,
        servicesCpuMsPerUpdate: {
          off: median(tracingCost.cpuMsPerUpdate.off),
          on: median(tracingCost.cpuMsPerUpdate.on),
          offRuns: tracingCost.cpuMsPerUpdate.off,
          onRuns: tracingCost.cpuMsPerUpdate.on,
        },
        exportRequests: tracingCost.exportRequests,
        exportedMegabytes: round2(tracingCost.exportedBytes / 2 ** 20),
      },
      stress: {
        iterations: stressIterations,
        seconds: Math.round(stress.elapsedMs / 100) / 10,
        budgetSeconds: Math.round(stressBudgetMs / 100) / 10,
        mismatches: stress.mismatches,
        httpErrors: stress.httpErrors,
        lagMs: stress.lagMs,
        writes: stress.writes,
        reads: stress.reads,
        readShare: round2(readShare),
      },
    };
    if (values.json) {
      console.log(JSON.stringify(results, null, 2));
      return;
    }
    const mark = (ok: boolean) => (ok ? 'met' : 'NOT met');
    console.log(`
| measure | result | target |
| --- | --- | --- |
| raw JetStream: publish → consume → ack | ${results.rawJetStreamMsgsPerSec} msg/s${spread(jetstreamRuns)} | |
${stan ? `| raw NATS Streaming: publish → consume → ack | ${Math.round(stan.msgsPerSec)} msg/s${spread(stan.runs)} | |\n` : ''}| raw ${stack.mongo!.kind}: findOne + save (versioned) | ${results.rawMongoUpdatesPerSec} updates/s${spread(mongoRuns)} | |
| cores used during the raw run | ${rawCpu} (of ${os.cpus().length}) | |
| database work alone of an end-to-end update (edit's write with its event, replica's write) | ${results.databaseWorkUpdatesPerSec} updates/s${spread(workRuns)}; ÷ slower raw limit: ${results.databaseWorkOverSlowerRaw}${spread(workRatios)} (what the ratio below could reach if HTTP, the bus and the services cost nothing) | |
| end to end (${eventBus}): ticket updates applied in orders, ${SATURATION_TICKETS} tickets at once | ${results.endToEndUpdatesPerSec} updates/s${spread(e2eRuns)} | |
| end to end ÷ slower raw limit (each round's runs compared with each other) | ${results.endToEndOverSlowerRaw}${spread(ratios)} | ≥ 0.5 (${mark(results.endToEndOverSlowerRaw >= 0.5)}) |
| cores used during end to end | ${cpu} (of ${os.cpus().length}) | |
| CPU per update, ms: raw run / end to end | ${byProcess(rawMs, 'client')} / ${byProcess(e2eMs, 'load generator + gateway')} | |
| replication lag at 100 updates/s | p50 ${lag.p50} ms, p99 ${lag.p99} ms, max ${lag.max} ms (${lag.samples} samples) | p99 ≤ 50 ms (${mark(lag.p99 <= 50)}) |
| replication lag at ¼ of saturation (${quarterRate} updates/s) | p50 ${quarterLag.p50} ms, p99 ${quarterLag.p99} ms, max ${quarterLag.max} ms (${quarterLag.samples} samples) | p99 ≤ 50 ms (${mark(quarterLag.p99 <= 50)}) |
| stress CLI in its own process: ${stressIterations} iterations, 200 in flight | ${stress.mismatches} mismatches, ${Object.keys(stress.httpErrors).length ? `HTTP errors ${JSON.stringify(stress.httpErrors)}` : 'no HTTP errors'} | 0 mismatches (${mark(stress.mismatches === 0 && Object.keys(stress.httpErrors).length === 0)}) |
| — its replication lag | p50 ${stress.lagMs.p50} ms, p95 ${stress.lagMs.p95} ms, p99 ${stress.lagMs.p99} ms, max ${stress.lagMs.max} ms | p99 ≤ 1 s (${mark(stress.lagMs.p99 <= 1000)}) |
| — its elapsed time | ${results.stress.seconds} s | ≤ 1.5 × ${stress.writes} writes ÷ saturation = ${results.stress.budgetSeconds} s (${mark(stress.elapsedMs <= stressBudgetMs)}) |
| — its reads of replicas | ${stress.reads} (${Math.round(readShare * 1000) / 10}% of its ${stress.writes} writes) | ≤ 10% (${mark(readShare <= 0.1)}) |
| end to end, tracing off / on (every span exported over OTLP/HTTP to a local receiver) | ${results.tracing.offUpdatesPerSec}${spread(tracingCost.off)} / ${results.tracing.onUpdatesPerSec}${spread(tracingCost.on)} updates/s; ${tracingCost.exportRequests} export requests, ${results.tracing.exportedMegabytes} MiB | |
| — tracing on ÷ off (each round's runs compared with each other) | ${tracingRatio}${spread(tracingCost.ratios)} | ≥ 0.85 (${mark(tracingRatio >= 0.85)}) |
| — CPU of tickets + orders per update applied, off / on | ${results.tracing.servicesCpuMsPerUpdate.off}${spread(tracingCost.cpuMsPerUpdate.off)} / ${results.tracing.servicesCpuMsPerUpdate.on}${spread(tracingCost.cpuMsPerUpdate.on)} ms | |

machine: ${results.machine}`);
  } finally {
    await stack.stop();
  }
}

async function benchStan(quick: boolean, log: (line: string) => void): Promise<{ msgsPerSec: number; runs: number[] }> {
  log('bench: raw NATS Streaming publish → consume → ack…');
  const runs = await repeat(quick ? 1 : 3, () => benchRawStan(quick ? 5_000 : 50_000));
  log(`  ${Math.round(median(runs))} msg/s${spread(runs)}`);
  return { msgsPerSec: median(runs), runs };
}

async function repeat(times: number, run: () => Promise<number>): Promise<number[]> {
  const results: number[] = [];
  for (let i = 0; i < times; i++) results.push(await run());
  return results;
}

/** The middle run's figure (nearest-rank median). */
function median(values: number[]): number {
  return percentile(values, 50);
}

/** " (median of 3: a, b, c)" for several runs, nothing for one (ratios keep two decimals). */
function spread(values: number[]): string {
  const show = (v: number) => (v < 10 ? String(round2(v)) : String(Math.round(v)));
  return values.length > 1 ? ` (median of ${values.length}: ${values.map(show).join(', ')})` : '';
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

/** Per process, CPU milliseconds per update: each run's cores over its throughput, median of the runs. */
function msPerUpdate(coreRuns: Record<string, number>[], throughputs: number[]): Record<string, number> {
  const names = [...new Set(coreRuns.flatMap((r) => Object.keys(r)))];
  return Object.fromEntries(names.map((n) => [n, round2(median(coreRuns.map((r, i) => ((r[n] ?? 0) / throughputs[i]) * 1000)))]));
}

/** Per process, the cores used on average over several runs. */
function averageCores(runs: Record<string, number>[]): Record<string, number> {
  const names = [...new Set(runs.flatMap((r) => Object.keys(r)))];
  return Object.fromEntries(names.map((n) => [n, round2(runs.reduce((sum, r) => sum + (r[n] ?? 0), 0) / runs.length)]));
}

main().catch((err) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exit(1);
});
