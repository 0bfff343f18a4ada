import { spawn } from 'node:child_process';
import path from 'node:path';
import { buildSync } from 'esbuild';
import { waitFor } from '../testing/helpers';

/**
 * runService is the process around every service: these run it in a real child process (bundled
 * from the sources with esbuild) and send it real signals, as Kubernetes does.
 */
function runChild(start: string, env: NodeJS.ProcessEnv = {}) {
  const script = buildSync({
    stdin: {
      contents: `
        import { runService } from './run-service';
        // an open server keeps a service's process alive; this timer stands in for it until stop
        const serving = setInterval(() => undefined, 60_000);
        const stop = async () => { clearInterval(serving); console.log(JSON.stringify({ message: 'stop called' })); };
        runService({ name: 'svc', loadConfig: () => {
          if (process.env.BAD_CONFIG) { const { ConfigError } = require('../config'); throw new ConfigError('config: BAD_CONFIG is set'); }
          return { NATS_CLIENT_NAME: 'pod-1', LOG_LEVEL: 'info' };
        }, start: ${start} });`,
      resolveDir: __dirname,
      loader: 'ts',
    },
    bundle: true,
    platform: 'node',
    format: 'cjs',
    write: false,
    // node_modules are required from the child's working directory, the repository root
    packages: 'external',
    logLevel: 'silent',
  }).outputFiles[0].text;
  const child = spawn(process.execPath, ['-'], {
    cwd: path.resolve(__dirname, '../../..'),
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  child.stdin.end(script);
  const lines: Record<string, unknown>[] = [];
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    for (const line of chunk.split('\n').filter(Boolean)) lines.push(JSON.parse(line));
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const messages = () => lines.map((l) => l.message);
  // The service's own lines. pino writes them asynchronously, and at exit flushes what is still
  // buffered synchronously, possibly ahead of a write still in flight: their order is not fixed.
  const logged = () => lines.filter((l) => l.service === 'svc');
  /** The messages of those lines, sorted (see above). */
  const loggedMessages = () =>
    logged()
      .map((l) => l.message)
      .sort();
  return { child, lines, messages, logged, loggedMessages, exited, stderr: () => stderr };
}

const STARTS = `async () => { console.log(JSON.stringify({ message: 'started' })); return { port: 1, stop }; }`;

describe('runService (a real child process)', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)('when it gets %s, then it stops the service and exits 0', async (signal) => {
    const run = runChild(STARTS);
    await waitFor(() => run.messages().includes('started'), { what: 'the service to start' });
    run.child.kill(signal);
    expect(await run.exited).toBe(0);
    expect(run.messages()[0]).toBe('started');
    expect(run.messages()).toContain('stop called');
    expect(run.logged()).toEqual([expect.objectContaining({ message: 'svc shutting down', service: 'svc', pod: 'pod-1', why: signal })]);
  });

  it('when an exception escapes, then it logs it, stops the service and exits 1', async () => {
    const run = runChild(`async () => { setTimeout(() => { throw new Error('boom'); }, 10); return { port: 1, stop }; }`);
    expect(await run.exited).toBe(1);
    expect(run.messages()).toContain('stop called');
    expect(run.loggedMessages()).toEqual(['svc shutting down', 'uncaught exception']);
    expect(run.logged().find((l) => l.message === 'uncaught exception')).toMatchObject({ level: 'error', err: { message: 'boom' } });
  });

  it('when a promise rejection is not handled, then it logs it and keeps serving', async () => {
    const run = runChild(`async () => { void Promise.reject(new Error('stray')); return { port: 1, stop }; }`);
    await waitFor(() => run.messages().includes('unhandled promise rejection'), { what: 'the rejection to be logged' });
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
    expect(run.messages()).toContain('stop called');
    expect(run.loggedMessages()).toEqual(['svc shutting down', 'unhandled promise rejection']);
  });

  it('when start-up fails, then it logs why and exits 1', async () => {
    const run = runChild(`async () => { throw new Error('no database'); }`);
    expect(await run.exited).toBe(1);
    expect(run.lines).toEqual([
      expect.objectContaining({ level: 'error', message: 'svc failed to start', err: expect.objectContaining({ message: 'no database' }) }),
    ]);
  });

  it('when the configuration is invalid, then it prints one line and exits 1 without starting', async () => {
    const run = runChild(STARTS, { BAD_CONFIG: '1' });
    expect(await run.exited).toBe(1);
    expect(run.stderr()).toBe('config: BAD_CONFIG is set\n');
    expect(run.lines).toEqual([]);
  });
});
