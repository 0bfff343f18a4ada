import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';

/** Ports this process has handed out: each is meant for a server that may not listen yet. */
const handedOut = new Set<number>();

/**
 * Where servers of the tests get their ports: below the range the OS takes the local ports of
 * outgoing connections from (Linux: ip_local_port_range), so that a connection opened between
 * choosing a port and the server binding it cannot take it; one slice per jest worker, so that
 * two workers do not choose the same one. None where the OS does not say (then port 0).
 */
const PORT_SLICES = 8;
const testPorts: { from: number; size: number } | undefined = (() => {
  let ephemeralFrom: number;
  try {
    ephemeralFrom = Number(fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
  } catch {
    return undefined;
  }
  const from = Math.max(10_000, ephemeralFrom - 12_000);
  const size = Math.floor((ephemeralFrom - from) / PORT_SLICES);
  if (!Number.isSafeInteger(ephemeralFrom) || size < 100) return undefined;
  const worker = (Number(process.env.JEST_WORKER_ID ?? 1) - 1) % PORT_SLICES;
  return { from: from + worker * size, size };
})();

/** Binds and releases `port` (0: any) on 127.0.0.1; the port bound, or undefined if it was taken. */
function tryPort(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.on('error', () => resolve(undefined));
    server.listen(port, '127.0.0.1', () => {
      const bound = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(bound));
    });
  });
}

/**
 * A TCP port that was free a moment ago on 127.0.0.1, and never one this process handed out
 * before: a port chosen for a server that has not started yet (a cluster node's route port) is
 * free again until it does, and would otherwise be offered to the next caller (a proxy in front of it).
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    const candidate = testPorts && attempt < 200 ? testPorts.from + Math.floor(Math.random() * testPorts.size) : 0;
    if (handedOut.has(candidate)) continue;
    const port = await tryPort(candidate);
    if (port === undefined || handedOut.has(port)) continue;
    handedOut.add(port);
    return port;
  }
}

/** Resolves once something accepts TCP connections on the port. */
export async function waitForPort(port: number, timeoutMs = 20_000, host = '127.0.0.1'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ port, host }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`nothing listening on ${host}:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Whether something accepts a TCP connection on host:port now (false if refused or unreachable). */
export function acceptsConnection(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host, timeout: 2000 }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.on('error', () => resolve(false));
  });
}

/**
 * Addresses of this machine, other than 127.0.0.1, that reach a server listening on every
 * interface: another loopback address (on Linux all of 127.0.0.0/8 is this machine, so it works
 * even where loopback is the only interface) and the IPv4 addresses of the network interfaces.
 */
export function otherAddressesOfThisMachine(): string[] {
  const external = Object.values(os.networkInterfaces())
    .flat()
    .filter((a) => a !== undefined && a.family === 'IPv4' && !a.internal)
    .map((a) => a!.address);
  return ['127.0.0.2', ...external];
}
