import type { Stack } from '../stack/stack';
import { startOtlpReceiver } from '../stack/otlp-receiver';
import { benchEndToEndThroughput } from './end-to-end';
import { withCpuShare } from './cpu-share';

export interface TracingCost {
  off: number[];
  on: number[];
  /** Each round's traced run over its untraced one. */
  ratios: number[];
  /**
   * CPU milliseconds tickets and orders spent per update applied, per run: what tracing costs the
   * services, less sensitive than throughput to what else runs on a shared machine.
   */
  cpuMsPerUpdate: { off: number[]; on: number[] };
  /** What the services exported during the traced runs. */
  exportRequests: number;
  exportedBytes: number;
}

/** Restarts every tickets and orders copy with `env` added to (or, with undefined values, removed from) its own. */
async function restartServices(stack: Stack, env: Record<string, string | undefined>): Promise<void> {
  const services = [...stack.tickets, ...stack.orders];
  await Promise.all(services.map((s) => s.stop()));
  for (const s of services) {
    for (const [key, value] of Object.entries(env)) {
      if (value === undefined) delete s.options.env[key];
      else s.options.env[key] = value;
    }
  }
  await Promise.all(services.map((s) => s.start()));
}

/**
 * End-to-end saturation with tracing off and on (every span sampled and exported over OTLP/HTTP,
 * protobuf, to a receiver in this process that only counts), in alternating rounds on the same
 * stack: off then on, on then off…, so that each round's two runs sit next to each other and one
 * restart per round switches the services over (then a warm-up run). Leaves the services as the last run had them.
 */
export async function benchTracingCost(
  stack: Stack,
  token: string,
  options: { rounds: number; tickets: number; perTicket: number; log: (line: string) => void },
): Promise<TracingCost> {
  const receiver = await startOtlpReceiver({ keep: false });
  const tracing = {
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
    OTEL_TRACES_SAMPLER: 'always_on',
  };
  const untraced = Object.fromEntries(Object.keys(tracing).map((k) => [k, undefined]));
  const result: TracingCost = { off: [], on: [], ratios: [], cpuMsPerUpdate: { off: [], on: [] }, exportRequests: 0, exportedBytes: 0 };
  let tracingOn = false;
  try {
    for (let round = 1; round <= options.rounds; round++) {
      const runs: Record<'off' | 'on', number> = { off: 0, on: 0 };
      const order: ('off' | 'on')[] = tracingOn ? ['on', 'off'] : ['off', 'on'];
      for (const mode of order) {
        if ((mode === 'on') !== tracingOn) {
          await restartServices(stack, mode === 'on' ? tracing : untraced);
          tracingOn = mode === 'on';
          // Not measured: a fresh process spends its first thousand requests compiling and
          // connecting, and a round's run right after the restart would pay for it, the other not.
          await benchEndToEndThroughput(stack, token, options.tickets, 4);
        }
        const before = receiver.requests;
        const services = Object.fromEntries([...stack.tickets, ...stack.orders].map((s) => [s.options.name, s.pid]));
        const run = await withCpuShare(services, () => benchEndToEndThroughput(stack, token, options.tickets, options.perTicket));
        runs[mode] = run.result;
        const serviceCores = Object.keys(services).reduce((sum, name) => sum + (run.coresUsed[name] ?? 0), 0);
        const cpuMs = Math.round((serviceCores / run.result) * 1000 * 100) / 100;
        result.cpuMsPerUpdate[mode].push(cpuMs);
        const exported = mode === 'on' ? `, ${receiver.requests - before} export requests` : '';
        options.log(
          `  round ${round}, tracing ${mode}: ${Math.round(runs[mode])} updates/s, services' CPU ${cpuMs} ms per update${exported}`,
        );
      }
      result.off.push(runs.off);
      result.on.push(runs.on);
      result.ratios.push(Math.round((runs.on / runs.off) * 100) / 100);
    }
    result.exportRequests = receiver.requests;
    result.exportedBytes = receiver.bytes;
    return result;
  } finally {
    await receiver.stop();
  }
}
