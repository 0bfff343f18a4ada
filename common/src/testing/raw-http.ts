import net from 'node:net';
import { once } from 'node:events';
import { waitFor } from './helpers';

/**
 * Sends `request` as raw bytes (fetch and node:http would correct a malformed one, or normalise
 * its path) and reads the whole answer, up to the server closing the connection. `head` is
 * lower-cased; `json` is the parsed body, if any.
 */
export async function rawExchange(port: number, request: string): Promise<{ status: number; head: string; json: unknown }> {
  const socket = net.connect(port, '127.0.0.1');
  await once(socket, 'connect');
  let received = '';
  let closed = false;
  socket.on('data', (chunk) => (received += chunk.toString()));
  socket.on('close', () => (closed = true));
  socket.on('error', () => undefined);
  socket.write(request);
  await waitFor(() => closed, { what: 'the server to answer and close the connection', timeoutMs: 10_000 });
  const [head, ...rest] = received.split('\r\n\r\n');
  const body = rest.join('\r\n\r\n');
  return {
    status: Number(/^HTTP\/1\.1 (\d{3}) /.exec(head)?.[1]),
    head: head.toLowerCase(),
    json: (body ? JSON.parse(body) : undefined) as unknown,
  };
}
