import { authHeader, newId, rawRequest as send, testToken, useRealStartUp } from '@ticketing/common/testing';
import { loadConfig } from './config';
import { startService } from './service';
import { Ticket } from './tickets/ticket-replica.model';

/**
 * The listing limit on orders' listings (the replicas by ids, the caller's orders) and the rate
 * limit, on the real start-up: configuration from variables, a real port, NATS and the
 * MongoDB-protocol server (finding 9 of issue 21).
 */
describe('orders: what one client can cost', () => {
  const start = useRealStartUp('orders', { loadConfig, startService });

  it('when a burst of 100-ticket replica reads comes over many connections, then one runs at a time, the excess gets 503 with Retry-After at once, and single reads and orders are answered meanwhile', async () => {
    // RATE_LIMIT_PER_USER=0: no per-user limit, so that what refuses the burst here is the listing
    // limit alone. Eight wait their turn for as long as it takes: the burst lasts nine reads in a row.
    const port = await start({ LISTING_CONCURRENCY: '1', LISTING_QUEUE: '8', LISTING_MAX_WAIT_MS: '60000', RATE_LIMIT_PER_USER: '0' });
    const ids = Array.from({ length: 100 }, newId);
    await Ticket.insertMany(ids.map((id, i) => ({ _id: id, title: `Replica ${i}`, price: 10, version: 0 })));
    const watcher = authHeader(testToken());
    const buyer = authHeader(testToken());

    let burstDone = false;
    const burst = Promise.all(
      Array.from({ length: 30 }, () => send(port, `/api/orders/tickets?ids=${ids.join(',')}`, { headers: watcher })),
    ).then((answers) => {
      burstDone = true;
      return answers;
    });
    const single = send(port, `/api/orders/tickets/${ids[0]}`).then((answer) => ({ answer, duringBurst: !burstDone }));
    const order = send(port, '/api/orders', { method: 'POST', headers: buyer, body: { ticketId: ids[1] } }).then((answer) => ({
      answer,
      duringBurst: !burstDone,
    }));
    const [answers, singleResult, orderResult] = await Promise.all([burst, single, order]);

    expect(answers.filter((a) => a.status !== 200 && a.status !== 503)).toEqual([]);
    const served = answers.filter((a) => a.status === 200);
    const busy = answers.filter((a) => a.status === 503);
    expect(served.length).toBeGreaterThanOrEqual(1);
    expect(busy.length).toBeGreaterThan(0);
    for (const a of served) expect(a.body.tickets).toHaveLength(100);
    for (const a of busy) {
      expect(a.body).toEqual({ code: 'busy', errors: [{ message: expect.any(String) }] });
      expect(a.headers['retry-after']).toBe('1');
    }
    expect(singleResult.answer.status).toBe(200);
    expect(orderResult.answer.status).toBe(201);
    expect(singleResult.duringBurst).toBe(true);
    expect(orderResult.duringBurst).toBe(true);
  });

  it("when a user's order listings come all at once past the listing limit, then the excess gets 503, not a wait; and past RATE_LIMIT_PER_USER, 429", async () => {
    const port = await start({ LISTING_CONCURRENCY: '1', LISTING_QUEUE: '0', RATE_LIMIT_PER_USER: '25' });
    const user = authHeader(testToken());
    const answers = await Promise.all(Array.from({ length: 20 }, () => send(port, '/api/orders', { headers: user })));
    expect(answers.filter((a) => a.status !== 200 && a.status !== 503)).toEqual([]);
    expect(answers.filter((a) => a.status === 200).length).toBeGreaterThanOrEqual(1);
    expect(answers.filter((a) => a.status === 503).length).toBeGreaterThan(0);

    const more = [];
    for (let i = 0; i < 6; i++) more.push(await send(port, '/api/orders', { headers: user }));
    expect(more.map((a) => a.status)).toEqual([200, 200, 200, 200, 200, 429]);
    expect(more[5].body).toEqual({ code: 'rate_limited', errors: [{ message: expect.any(String) }] });
    expect(Number(more[5].headers['retry-after'])).toBeGreaterThan(0);
  });
});
