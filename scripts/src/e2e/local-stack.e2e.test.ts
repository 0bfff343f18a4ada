import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { acceptsConnection, otherAddressesOfThisMachine, startNatsServer, waitFor, type NatsServerHandle } from '@ticketing/common/testing';

jest.setTimeout(120_000);

/**
 * `npm start` as a user runs it (the built launcher in its own process), with the operator's own
 * JWT_KEY and the run's MongoDB and NATS: what it prints, and where its processes listen.
 */
describe('npm start with JWT_KEY set', () => {
  let nats: NatsServerHandle;
  let child: ChildProcess | undefined;
  const key = 'the-operators-own-key-0123456789';

  beforeAll(async () => {
    nats = await startNatsServer();
  });
  afterAll(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child!.once('exit', resolve));
      child.kill('SIGINT');
      await exited;
    }
    await nats.destroy();
  });

  it('when the stack is up, then the banner prints no token, and tickets, orders and web listen on loopback only', async () => {
    let output = '';
    child = spawn(process.execPath, [path.join(__dirname, '..', '..', 'dist', 'local-stack.js'), '--port', '0'], {
      env: { ...process.env, JWT_KEY: key, MONGO_URL: process.env.TEST_MONGO_URL, NATS_URL: nats.url, HOST: '0.0.0.0', LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (c: Buffer) => (output += c));
    child.stderr!.on('data', (c: Buffer) => (output += c));
    await waitFor(() => output.includes('stop with Ctrl-C') || child!.exitCode !== null, { timeoutMs: 90_000, what: 'the banner' });
    expect(output).toContain('stop with Ctrl-C');

    expect(output.match(/eyJ[\w-]*\.[\w-]*\.[\w-]*/)).toBeNull();
    expect(output).not.toContain(key);
    expect(output).toContain('npm run -s token');

    // An inherited HOST (set above to every interface) does not open the stack's processes to the network.
    const ports = ['tickets', 'orders', 'web'].map((name) =>
      Number(new RegExp(`${name}: +http://127\\.0\\.0\\.1:(\\d+)`).exec(output)?.[1]),
    );
    expect(ports.every((p) => p > 0)).toBe(true);
    for (const port of ports) {
      expect(await acceptsConnection(port, '127.0.0.1')).toBe(true);
      for (const address of otherAddressesOfThisMachine()) {
        expect({ port, address, open: await acceptsConnection(port, address) }).toEqual({ port, address, open: false });
      }
    }
  });
});
