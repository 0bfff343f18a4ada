import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { prettyFactory } from 'pino-pretty';

export interface ServiceProcessOptions {
  /** e.g. `orders-1`: used for the NATS client name and the log file. */
  name: string;
  /** The compiled entry point, e.g. `orders/dist/main.js`. */
  entry: string;
  port: number;
  env: NodeJS.ProcessEnv;
  /**
   * Where stdout/stderr go (appended), or 'inherit' to print them: on a terminal, the JSON lines
   * are printed readably (pino-pretty), one a line; piped elsewhere, as they are.
   */
  log: string | 'inherit';
}

/** One running copy of a service, started with `node`, restartable, observable through HTTP. */
export class ServiceProcess {
  private child?: ChildProcess;
  exits: { code: number | null; signal: NodeJS.Signals | null }[] = [];

  constructor(readonly options: ServiceProcessOptions) {}

  get url(): string {
    return `http://127.0.0.1:${this.options.port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  async start(readyTimeoutMs = 30_000): Promise<void> {
    if (this.child) return;
    const { entry, port, env, log, name } = this.options;
    const pretty = log === 'inherit' && process.stdout.isTTY;
    let stdio: ('ignore' | 'inherit' | 'pipe' | number)[] = ['ignore', pretty ? 'pipe' : 'inherit', 'inherit'];
    if (log !== 'inherit') {
      fs.mkdirSync(path.dirname(log), { recursive: true });
      const fd = fs.openSync(log, 'a');
      stdio = ['ignore', fd, fd];
    }
    const child = spawn(process.execPath, [entry], {
      // HOST: the address `url` names and no other; an inherited HOST must not open it to the network.
      env: { ...process.env, ...env, HOST: '127.0.0.1', PORT: String(port), NATS_CLIENT_NAME: name },
      stdio,
    });
    this.child = child;
    if (pretty && child.stdout) {
      const prettify = prettyFactory({
        colorize: true,
        singleLine: true,
        messageKey: 'message',
        translateTime: 'SYS:HH:MM:ss.l',
        ignore: 'service,pod',
        messageFormat: `${name} {message}`,
      });
      readline.createInterface({ input: child.stdout }).on('line', (line) => process.stdout.write(prettify(line)));
    }
    child.once('exit', (code, signal) => {
      this.exits.push({ code, signal });
      if (this.child === child) this.child = undefined;
    });
    await this.waitReady(readyTimeoutMs);
  }

  /** Resolves with the exit code once the process has exited (SIGKILL after `graceMs`). */
  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 15_000): Promise<number | null> {
    const child = this.child;
    if (!child) return this.exits.at(-1)?.code ?? null;
    return new Promise((resolve) => {
      const force = setTimeout(() => child.kill('SIGKILL'), graceMs);
      child.once('exit', (code) => {
        clearTimeout(force);
        resolve(code);
      });
      child.kill(signal);
    });
  }

  /** Dies at once, mid-work: for fault tests. */
  kill(): Promise<number | null> {
    return this.stop('SIGKILL');
  }

  async json<T = unknown>(pathname: string): Promise<T> {
    const res = await fetch(this.url + pathname);
    if (!res.ok) throw new Error(`${this.options.name} ${pathname}: HTTP ${res.status}`);
    return (await res.json()) as T;
  }

  private async waitReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!this.child) throw new Error(`${this.options.name} exited before it was ready (see ${this.options.log})`);
      try {
        const res = await fetch(`${this.url}/readyz`);
        if (res.ok) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`${this.options.name} not ready after ${timeoutMs} ms (see ${this.options.log})`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
