import fc from 'fast-check';
import request from 'supertest';
import { authHeader, testToken } from '@ticketing/common/testing';
import { useHarness } from '../test-kit/harness';
import { buildTicket } from '../test-kit/builders';
import { Ticket } from './ticket.model';

/** Anything a client could send as JSON, with MongoDB operators and near-valid fields mixed in. */
const hostileValue = fc.oneof(
  fc.jsonValue(),
  fc.constantFrom({ $gt: 0 }, { $ne: null }, { $where: '1' }, [], '', ' ', '5', 1e308, -1, 0, 0.001, 10.555, null, true),
);
const hostileBody = fc.oneof(
  fc.record({ title: hostileValue, price: hostileValue, version: hostileValue }, { requiredKeys: [] }),
  fc.dictionary(fc.string(), hostileValue),
  fc.jsonValue(),
);

/** What a stored ticket must look like, whatever was thrown at the API. */
function assertValidTicket(t: { title: unknown; price: unknown; userId: unknown; version: unknown }) {
  expect(typeof t.title).toBe('string');
  expect((t.title as string).trim()).toBe(t.title);
  expect((t.title as string).length).toBeGreaterThan(0);
  expect(typeof t.price).toBe('number');
  expect(t.price).toBeGreaterThan(0);
  expect(Number.isFinite(t.price)).toBe(true);
  expect(Math.round((t.price as number) * 100) / 100).toBe(t.price);
  expect(typeof t.userId).toBe('string');
  expect(Number.isInteger(t.version)).toBe(true);
}

describe('random JSON thrown at the write endpoints', () => {
  const t = useHarness();
  const token = testToken({ id: 'fuzzer' });

  it('never gets a 5xx, and the database holds only valid tickets', async () => {
    const target = await buildTicket({ userId: 'fuzzer' });
    await fc.assert(
      fc.asyncProperty(hostileBody, fc.boolean(), async (body, update) => {
        const req = update ? request(t.app).put(`/api/tickets/${target.id}`) : request(t.app).post('/api/tickets');
        // sent as raw JSON text: primitives and arrays too, exactly as a client could send them
        const res = await req.set(authHeader(token)).set('Content-Type', 'application/json').send(JSON.stringify(body));
        expect(res.status).toBeLessThan(500);
        if (res.status >= 400) expect(Array.isArray(res.body.errors)).toBe(true);
      }),
      { numRuns: 150 },
    );
    const stored = await Ticket.find().lean();
    expect(stored.length).toBeGreaterThan(0);
    stored.forEach(assertValidTicket);
  });

  it('never gets a 5xx for raw, malformed or mistyped bodies', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string(),
        fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded'),
        async (raw, type) => {
          const res = await request(t.app).post('/api/tickets').set(authHeader(token)).set('Content-Type', type).send(raw);
          expect(res.status).toBeLessThan(500);
        },
      ),
      { numRuns: 100 },
    );
    (await Ticket.find().lean()).forEach(assertValidTicket);
  });
});
