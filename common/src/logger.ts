import { AsyncLocalStorage } from 'node:async_hooks';
import { isSpanContextValid, trace } from '@opentelemetry/api';
import { pino, type DestinationStream, type Logger as PinoLogger } from 'pino';

/**
 * The services' logger is pino: JSON lines on stdout, `child()` bindings, `logger.info({ fields },
 * 'message')`. The line keeps the shape the project has always written (`time` as ISO text,
 * `level` as its name, the text under `message`), so what reads the logs (tests, the local stack's
 * pretty printer, a cluster's log shipper) sees the same fields.
 */
export type Logger = PinoLogger;
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
export type LogFields = Record<string, unknown>;

/**
 * Fields that every line written in this asynchronous context carries, whichever logger writes it:
 * the request id while a request is handled (set by the service app), so that a route handler, the
 * outbox it calls and the error handler need no logger of their own to be correlated.
 */
const logContext = new AsyncLocalStorage<LogFields>();

/** Runs `fn` with `fields` added to every line logged inside it (and in what it awaits). */
export function withLogContext<T>(fields: LogFields, fn: () => T): T {
  return logContext.run({ ...logContext.getStore(), ...fields }, fn);
}

/**
 * What each line gets besides its own fields: the context's fields, and the active span's trace
 * and span ids when an OpenTelemetry SDK is running (the API alone has no active span, so nothing
 * is added then). A field given by the call itself wins over these.
 */
function contextFields(): LogFields {
  const fields = logContext.getStore();
  const span = trace.getActiveSpan()?.spanContext();
  if (!span || !isSpanContextValid(span)) return fields ? { ...fields } : {};
  return { ...fields, trace_id: span.traceId, span_id: span.spanId, trace_flags: `0${span.traceFlags.toString(16)}`.slice(-2) };
}

/**
 * A logger writing to stdout, or to `destination`: a stream, or a function given each line
 * without its newline (how tests capture a service's lines).
 */
export function createLogger(
  base: LogFields = {},
  level: LogLevel = 'info',
  destination?: DestinationStream | ((line: string) => void),
): Logger {
  const stream: DestinationStream | undefined =
    typeof destination === 'function'
      ? { write: (line: string) => destination(line.endsWith('\n') ? line.slice(0, -1) : line) }
      : destination;
  const options = {
    level,
    base,
    messageKey: 'message',
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
    mixin: contextFields,
  };
  return stream ? pino(options, stream) : pino(options);
}

export const silentLogger: Logger = createLogger({}, 'silent');
