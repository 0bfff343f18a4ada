import type { NodeSDK } from '@opentelemetry/sdk-node';
import { mongoStatement } from './db-statement';

/** Requests that say nothing about what the service does: probes and scrapes, every few seconds. */
const UNTRACED_PATHS = new Set(['/healthz', '/readyz', '/metrics', '/internal/stats']);

let sdk: NodeSDK | undefined;

/**
 * Whether the environment asks for traces: an OTLP endpoint, or an exporter named in
 * `OTEL_TRACES_EXPORTER` (other than `none`), and not `OTEL_SDK_DISABLED=true`. Without either, the
 * SDK's default (OTLP to localhost:4318) would only send spans nowhere, at a cost on every request.
 */
export function tracingRequested(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return false;
  const exporters = (env.OTEL_TRACES_EXPORTER ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s && s !== 'none');
  return exporters.length > 0 || !!env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() || !!env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
}

/**
 * Starts the OpenTelemetry SDK for traces when the `OTEL_*` variables ask for them (see
 * `tracingRequested`); otherwise loads nothing, and every span the code asks for is a no-op.
 * Must run before express, http and mongodb are loaded: the instrumentations patch them as they
 * are required. Everything else comes from the standard variables (`OTEL_EXPORTER_OTLP_PROTOCOL`,
 * `OTEL_TRACES_SAMPLER`, `OTEL_BSP_*`…); `serviceName` applies when `OTEL_SERVICE_NAME` is unset.
 * Returns whether it started.
 */
export function startTracing(serviceName: string, env: NodeJS.ProcessEnv = process.env): boolean {
  if (sdk || !tracingRequested(env)) return !!sdk;
  // Loaded only when asked for: the SDK and its exporters are many modules a process without
  // tracing has no use for.
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { NodeSDK } = require('@opentelemetry/sdk-node') as typeof import('@opentelemetry/sdk-node');
  const { HttpInstrumentation } = require('@opentelemetry/instrumentation-http') as typeof import('@opentelemetry/instrumentation-http');
  const { ExpressInstrumentation, ExpressLayerType } =
    require('@opentelemetry/instrumentation-express') as typeof import('@opentelemetry/instrumentation-express');
  const { MongoDBInstrumentation } =
    require('@opentelemetry/instrumentation-mongodb') as typeof import('@opentelemetry/instrumentation-mongodb');
  /* eslint-enable @typescript-eslint/no-require-imports */
  sdk = new NodeSDK({
    serviceName: env.OTEL_SERVICE_NAME ? undefined : serviceName,
    // Metrics are Prometheus' (/metrics) and logs go to stdout: the SDK's OTLP defaults for them
    // would export a second copy nobody asked for. Either still can be had by naming an exporter.
    ...(env.OTEL_METRICS_EXPORTER ? {} : { metricReaders: [] }),
    ...(env.OTEL_LOGS_EXPORTER ? {} : { logRecordProcessors: [] }),
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (req) => UNTRACED_PATHS.has((req.url ?? '').split('?')[0]),
        // The services make no HTTP requests of their own (the exporter's are never traced).
        disableOutgoingRequestInstrumentation: true,
      }),
      // One span per route handler (the HTTP span gets the route template); not one per
      // middleware or router passed through, a dozen per request that say little and cost on
      // every one.
      new ExpressInstrumentation({ ignoreLayersType: [ExpressLayerType.MIDDLEWARE, ExpressLayerType.ROUTER] }),
      new MongoDBInstrumentation({ dbStatementSerializer: mongoStatement }),
    ],
  });
  sdk.start();
  return true;
}

/**
 * Exports the spans still buffered and stops the SDK (at shutdown); nothing when it never started.
 * Waits at most `timeoutMs`: an unreachable collector must not hold up the process's exit.
 */
export async function stopTracing(timeoutMs = 2_000): Promise<void> {
  const running = sdk;
  sdk = undefined;
  if (!running) return;
  let timer: NodeJS.Timeout | undefined;
  const givenUp = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
  await Promise.race([running.shutdown().catch(() => undefined), givenUp]);
  clearTimeout(timer);
}
