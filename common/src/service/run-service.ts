import { loadConfigOrExit } from '../config';
import { createLogger, type Logger, type LogLevel } from '../logger';
import { stopTracing } from '../tracing/sdk';

/** Past this, shutdown gives up waiting and exits with 1 (Kubernetes kills at 30 s anyway). */
export const SHUTDOWN_TIMEOUT_MS = 10_000;

/** A started service, as its `service.ts` returns it. */
export interface RunningService {
  port: number;
  /** Stops taking requests and events, finishes the ones in flight, then closes every connection. */
  stop(): Promise<void>;
}

export interface ServiceDefinition<C extends { NATS_CLIENT_NAME: string; LOG_LEVEL: LogLevel }> {
  /** `tickets`, `orders`: the `service` field of every log line. */
  name: string;
  loadConfig(): C;
  start(config: C, logger: Logger): Promise<RunningService>;
}

/**
 * The process around a service, the same for every service: configuration (a bad one exits 1 with
 * one line), the logger, SIGTERM/SIGINT (drain, then exit 0), crash handlers, and the exit codes.
 * Signals are handled from the start: a pod stopped while still waiting for NATS or MongoDB exits
 * cleanly.
 */
export function runService<C extends { NATS_CLIENT_NAME: string; LOG_LEVEL: LogLevel }>(definition: ServiceDefinition<C>): void {
  const { name } = definition;
  const config = loadConfigOrExit(() => definition.loadConfig());
  const logger = createLogger({ service: name, pod: config.NATS_CLIENT_NAME }, config.LOG_LEVEL);
  let service: RunningService | undefined;
  let exiting = false;

  const shutdown = (why: string, code: number) => {
    if (exiting) return;
    exiting = true;
    logger.info({ why }, `${name} shutting down`);
    setTimeout(() => {
      logger.error({ timeoutMs: SHUTDOWN_TIMEOUT_MS }, `${name}: shutdown took too long, forcing exit`);
      process.exit(1);
    }, SHUTDOWN_TIMEOUT_MS).unref();
    (service?.stop() ?? Promise.resolve()).then(
      // The spans of the last requests and events are still buffered: export them first.
      () => stopTracing().then(() => process.exit(code)),
      (err: unknown) => {
        logger.error({ err }, `${name}: shutdown failed`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM', 0));
  process.on('SIGINT', () => shutdown('SIGINT', 0));
  // A stray rejection is a bug to fix, not a reason to drop every request in flight: log it loudly.
  process.on('unhandledRejection', (reason) => logger.error({ err: reason }, 'unhandled promise rejection'));
  // After an uncaught exception the process state is unknown: log, drain, exit non-zero.
  process.on('uncaughtException', (err) => {
    logger.error({ err }, 'uncaught exception');
    shutdown('uncaughtException', 1);
  });

  definition.start(config, logger).then(
    (running) => {
      service = running;
    },
    (err: unknown) => {
      logger.error({ err }, `${name} failed to start`);
      process.exit(1);
    },
  );
}
