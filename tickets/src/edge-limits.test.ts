import { authHeader, rawRequest, testToken, useRealStartUp } from '@ticketing/common/testing';
import { loadConfig } from './config';
import { startService } from './service';
import { Ticket } from './tickets/ticket.model';

const send = rawRequest;

const jsonError = { code: expect.any(String), errors: [{ message: expect.any(String) }] };

/**
 * The per-client rate limit and the listing limit of finding 9 (issue 21), on the real start-up
 * (configuration from variables, a real port, NATS and the MongoDB-protocol server).
 */
describe('tickets: what one client can cost', () => {
  const start = useRealStartUp('tickets', { loadConfig, startService });

  it('when an anonymous client passes RATE_LIMIT_ANONYMOUS, then it gets 429 with the JSON error shape and Retry-After; another address, and the probes, are not affected', async () => {
    const port = await start({ RATE_LIMIT_ANONYMOUS: '3', TRUST_PROXY_HOPS: '0' });
    for (let i = 0; i < 3; i++) {
      const ok = await send(port, '/api/tickets');
      expect(ok.status).toBe(200);
      expect(ok.headers['ratelimit']).toMatch(new RegExp(`^"anonymous"; r=${2 - i}; t=\\d+$`));
      expect(ok.headers['ratelimit-policy']).toMatch(/^"anonymous"; q=3; w=60; pk=:[A-Za-z0-9+/=]+:$/);
    }
    const refused = await send(port, '/api/tickets');
    expect(refused.status).toBe(429);
    expect(refused.headers['content-type']).toMatch(/^application\/json/);
    expect(refused.body).toEqual({ code: 'rate_limited', errors: [{ message: expect.any(String) }] });
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(refused.headers['ratelimit']).toMatch(/^"anonymous"; r=0; t=\d+$/);
    // every route of the API, writes included, counts
    expect((await send(port, '/api/tickets/0123456789abcdef01234567')).status).toBe(429);

    // No proxy is trusted: an X-Forwarded-For of the client's choosing changes nothing.
    expect((await send(port, '/api/tickets', { headers: { 'x-forwarded-for': '198.51.100.7' } })).status).toBe(429);
    // Another client address has its own budget.
    expect((await send(port, '/api/tickets', { from: '127.0.0.2' })).status).toBe(200);
    // Probes, metrics and counters are never limited.
    for (const path of ['/healthz', '/readyz', '/metrics', '/internal/stats']) expect((await send(port, path)).status).toBe(200);
  });

  it('when a signed-in user passes RATE_LIMIT_PER_USER, then that user gets 429 from any address, while other users and anonymous clients of the same address do not', async () => {
    const port = await start({ RATE_LIMIT_PER_USER: '3', RATE_LIMIT_ANONYMOUS: '2', TRUST_PROXY_HOPS: '0' });
    const alice = authHeader(testToken());
    const bob = authHeader(testToken());
    const created = await send(port, '/api/tickets', { method: 'POST', headers: alice, body: { title: 'Limited', price: 5 } });
    expect(created.status).toBe(201);
    expect(created.headers['ratelimit']).toMatch(/^"user"; r=2;/);
    expect((await send(port, `/api/tickets/${created.body.id}`, { headers: alice })).status).toBe(200);
    expect((await send(port, '/api/tickets', { headers: alice, from: '127.0.0.3' })).status).toBe(200);

    const refused = await send(port, '/api/tickets', { method: 'POST', headers: alice, body: { title: 'One too many', price: 5 } });
    expect(refused.status).toBe(429);
    expect(refused.body).toEqual(jsonError);
    expect(refused.headers['retry-after']).toMatch(/^\d+$/);
    expect((await send(port, '/api/tickets', { headers: alice, from: '127.0.0.4' })).status).toBe(429);
    expect(await Ticket.countDocuments({ title: 'One too many' })).toBe(0);

    // Bob, and anonymous clients at Alice's address, count apart from her.
    expect((await send(port, '/api/tickets', { method: 'POST', headers: bob, body: { title: 'Bob', price: 5 } })).status).toBe(201);
    expect((await send(port, '/api/tickets')).status).toBe(200);
    // A token that does not verify is anonymous: it shares the address's anonymous budget.
    const forged = { Authorization: `Bearer ${testToken({}, 'not-the-key-at-all')}` };
    expect((await send(port, '/api/tickets', { headers: forged })).status).toBe(200);
    expect((await send(port, '/api/tickets', { headers: forged })).status).toBe(429);
  });

  it('when one proxy is trusted, then the client is the last X-Forwarded-For address (an IPv6 /56 as one), whatever the client wrote before it', async () => {
    const port = await start({ RATE_LIMIT_ANONYMOUS: '2', TRUST_PROXY_HOPS: '1' });
    const via = (forwardedFor: string) => send(port, '/api/tickets', { headers: { 'x-forwarded-for': forwardedFor } });
    expect((await via('203.0.113.1')).status).toBe(200);
    expect((await via('198.51.100.1, 203.0.113.1')).status).toBe(200);
    expect((await via('198.51.100.2, 203.0.113.1')).status).toBe(429);
    expect((await via('203.0.113.2')).status).toBe(200);
    // IPv4-mapped IPv6 is the IPv4 address; other IPv6 addresses count by their /56.
    expect((await via('::ffff:203.0.113.2')).status).toBe(200);
    expect((await via('203.0.113.2')).status).toBe(429);
    expect((await via('2001:db8:1:2::10')).status).toBe(200);
    expect((await via('2001:db8:1:2::99')).status).toBe(200);
    expect((await via('2001:db8:1:3::1')).status).toBe(429);
    expect((await via('2001:db8:2::1')).status).toBe(200);
  });

  it('when a burst of anonymous listings arrives over many connections, then the rate limit and the listing limit answer the excess at once (429, 503) and a single read and a write are answered while the burst is still running', async () => {
    const burst = 60;
    const port = await start({
      RATE_LIMIT_ANONYMOUS: '20',
      LISTING_CONCURRENCY: '1',
      // Ten wait their turn, for as long as it takes: the burst lasts eleven listings in a row, and
      // the read and the write are not behind them all.
      LISTING_QUEUE: '10',
      LISTING_MAX_WAIT_MS: '60000',
      TRUST_PROXY_HOPS: '0',
    });
    // Enough tickets that a full page is real work for the database.
    await Ticket.insertMany(Array.from({ length: 1500 }, (_, i) => ({ title: `Stock ${i}`, price: 10 + (i % 50), userId: 'seller' })));
    const one = await Ticket.findOne({ title: 'Stock 7' });
    const user = authHeader(testToken());

    let burstDone = false;
    const listings = Promise.all(Array.from({ length: burst }, () => send(port, '/api/tickets?limit=100'))).then((answers) => {
      burstDone = true;
      return answers;
    });
    const read = send(port, `/api/tickets/${one!.id}`, { headers: user }).then((answer) => ({ answer, duringBurst: !burstDone }));
    const write = send(port, '/api/tickets', { method: 'POST', headers: user, body: { title: 'During the burst', price: 9 } }).then(
      (answer) => ({ answer, duringBurst: !burstDone }),
    );

    const [answers, readResult, writeResult] = await Promise.all([listings, read, write]);
    const count = (status: number) => answers.filter((a) => a.status === status).length;
    expect(answers.filter((a) => ![200, 429, 503].includes(a.status))).toEqual([]);
    // 20 anonymous requests pass the rate limit; of those, one listing runs at a time, ten wait,
    // and the others are refused at once.
    expect(count(429)).toBe(burst - 20);
    expect(count(200)).toBeGreaterThanOrEqual(1);
    expect(count(503)).toBeGreaterThan(0);
    expect(count(200) + count(503)).toBe(20);
    for (const busy of answers.filter((a) => a.status === 503)) {
      expect(busy.body).toEqual({ code: 'busy', errors: [{ message: expect.any(String) }] });
      expect(busy.headers['retry-after']).toBe('1');
    }
    for (const page of answers.filter((a) => a.status === 200)) expect(page.body.tickets).toHaveLength(100);

    expect(readResult.answer.status).toBe(200);
    expect(writeResult.answer.status).toBe(201);
    expect(readResult.duringBurst).toBe(true);
    expect(writeResult.duringBurst).toBe(true);

    // Once the burst is over, listings are served again.
    expect((await send(port, '/api/tickets?limit=5', { headers: user })).status).toBe(200);
  });
});
