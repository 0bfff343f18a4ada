import { AsyncLocalStorage } from 'node:async_hooks';
import { context, ROOT_CONTEXT, trace, TraceFlags, type Context, type ContextManager } from '@opentelemetry/api';
import { createLogger, withLogContext } from './logger';

/**
 * The smallest context manager the API accepts (the SDK's does the same with more care), so that a
 * span can be active here without an SDK: what the trace fields of a line are read from.
 */
class TestContextManager implements ContextManager {
  private readonly storage = new AsyncLocalStorage<Context>();
  active = () => this.storage.getStore() ?? ROOT_CONTEXT;
  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(ctx: Context, fn: F, thisArg?: ThisParameterType<F>, ...args: A) {
    return this.storage.run(ctx, () => fn.call(thisArg, ...args));
  }
  bind<T>(_ctx: Context, target: T): T {
    return target;
  }
  enable = () => this;
  disable = () => this;
}

describe('the logger (pino)', () => {
  const capture = () => {
    const lines: Record<string, unknown>[] = [];
    return { lines, logger: createLogger({ service: 's' }, 'debug', (line) => lines.push(JSON.parse(line))) };
  };

  it('when a line is written, then it has the project’s shape: ISO time, level name, message, the base fields, an error serialized', () => {
    const { lines, logger } = capture();
    logger.error({ err: new Error('boom'), n: 1 }, 'something failed');
    expect(lines).toEqual([
      {
        time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
        level: 'error',
        service: 's',
        n: 1,
        err: expect.objectContaining({ type: 'Error', message: 'boom', stack: expect.stringContaining('boom') }),
        message: 'something failed',
      },
    ]);
  });

  it('when written inside a log context, then the line carries its fields, and a field of the call wins', async () => {
    const { lines, logger } = capture();
    await withLogContext({ requestId: 'r-1' }, async () => {
      await new Promise((resolve) => setImmediate(resolve));
      logger.info('inside');
      logger.info({ requestId: 'given' }, 'given wins');
    });
    logger.info('outside');
    expect(lines.map((l) => [l.message, l.requestId])).toEqual([
      ['inside', 'r-1'],
      ['given wins', 'given'],
      ['outside', undefined],
    ]);
  });

  it('when a span is active, then the line carries its trace and span ids; with none, no trace fields', () => {
    const { lines, logger } = capture();
    logger.info('no span yet');
    expect(context.setGlobalContextManager(new TestContextManager())).toBe(true);
    try {
      const span = trace.wrapSpanContext({
        traceId: '0af7651916cd43dd8448eb211c80319c',
        spanId: 'b7ad6b7169203331',
        traceFlags: TraceFlags.SAMPLED,
      });
      context.with(trace.setSpan(context.active(), span), () => logger.info('in a span'));
    } finally {
      context.disable();
    }
    expect(lines[0]).not.toHaveProperty('trace_id');
    expect(lines[1]).toMatchObject({ trace_id: '0af7651916cd43dd8448eb211c80319c', span_id: 'b7ad6b7169203331', trace_flags: '01' });
  });
});
