import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { verifySession } from '@ticketing/common/testing';
import { DEV_JWT_KEY } from './dev-key';

/** The environment of a user who set neither (the development key, the default maximum lifetime). */
const { JWT_KEY: _key, JWT_MAX_LIFETIME_SECONDS: _max, ...env } = process.env;

/** The built command-line tools (`npm test` builds before jest runs). */
const run = (script: string, ...args: string[]) =>
  spawnSync(process.execPath, [path.join(__dirname, '..', 'dist', `${script}.js`), ...args], {
    encoding: 'utf8',
    timeout: 20_000,
    env,
  });

describe('command lines of the scripts', () => {
  const scripts: [string, string[]][] = [
    ['stress', ['--iterations', '--concurrency', '--url', '--insecure', '--token', '--timeout', '--json']],
    ['bench', ['--quick', '--stress-iterations', '--event-bus', '--json']],
    ['local-stack', ['--port', '--orders-replicas', '--tickets-replicas', '--event-bus']],
    ['token', ['--id', '--email', '--hours']],
    ['rebuild-replica', ['--tickets-mongo-url', '--orders-mongo-url']],
  ];

  it.each(scripts)('when %s gets --help, then it prints its usage with every option and exits 0', (script, options) => {
    const result = run(script, '--help');
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^Usage: npm /);
    for (const option of options) expect(result.stdout).toContain(option);
  });

  it.each(scripts)('when %s gets an unknown option, then it names it, prints the usage and exits 2', (script) => {
    const result = run(script, '--no-such-option');
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("Unknown option '--no-such-option'");
    expect(result.stderr).toContain('Usage: npm ');
    expect(result.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it.each([
    ['stress', '--iterations', 'many'],
    ['stress', '--concurrency', '0'],
    ['bench', '--stress-iterations', '1e3'],
    ['local-stack', '--orders-replicas', 'two'],
    ['local-stack', '--port', '80.5'],
  ])('when %s gets %s %s, then it names the option, starts nothing and exits 2', (script, option, value) => {
    const result = run(script, option, value);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(`${option} must be a whole number`);
  });

  it('when rebuild-replica is not told both databases, then it says so, touches nothing and exits 2', () => {
    const result = run('rebuild-replica', '--tickets-mongo-url', 'mongodb://127.0.0.1:1/tickets');
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/^rebuild-replica: --tickets-mongo-url and --orders-mongo-url are required\n/);
  });

  it('when local-stack gets an event bus it does not know, then it names the option and the choices, starts nothing and exits 2', () => {
    const result = run('local-stack', '--event-bus', 'kafka');
    expect(result.status).toBe(2);
    expect(result.stderr).toBe('start: --event-bus must be jetstream or nats-streaming, got "kafka"\n');
  });

  it('when token is run, then it prints a token the services accept, with an expiry within their maximum lifetime', () => {
    const result = run('token', '--hours', '24');
    expect(result.status).toBe(0);
    expect(verifySession(result.stdout.trim(), DEV_JWT_KEY)?.user).toEqual({ id: 'dev-user', email: 'dev@ticketing.dev' });
  });

  it('when token is asked for a longer life than the services accept, then it names --hours and the limit, prints nothing and exits 2', () => {
    const result = run('token', '--hours', '48');
    expect(result.status).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('--hours must be at most 24');
  });
});
