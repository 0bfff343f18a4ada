import request from 'supertest';
import { Subjects } from '@ticketing/common';
import { authHeader, craftedToken, testToken } from '@ticketing/common/testing';
import { useHarness } from '../test-kit/harness';
import { ticketBody } from '../test-kit/builders';
import { publishedTicketEvents } from '../test-kit/events';
import { Ticket } from './ticket.model';
import { ticketView } from './ticket-view';

const now = () => Math.floor(Date.now() / 1000);

describe('POST /api/tickets', () => {
  const t = useHarness();
  const create = (body: unknown, token = testToken({ id: 'seller-1' })) =>
    request(t.app)
      .post('/api/tickets')
      .set(authHeader(token))
      .send(body as object);

  it('when a signed-in user sends a valid ticket, then it is stored, answered 201 and ticket:created (version 0) is published', async () => {
    const res = await create(ticketBody({ title: '  Concert  ', price: 19.99 }));

    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.stringMatching(/^[0-9a-f]{24}$/),
      title: 'Concert',
      price: 19.99,
      userId: 'seller-1',
      version: 0,
    });
    expect(res.headers.etag).toBe('"0"');
    const stored = await Ticket.findById(res.body.id).orFail();
    expect(ticketView(stored)).toEqual(res.body);

    const events = await publishedTicketEvents(t.bus, res.body.id);
    expect(events).toEqual([
      {
        subject: Subjects.TicketCreated,
        data: { id: res.body.id, version: 0, title: 'Concert', price: 19.99, userId: 'seller-1' },
        msgId: `ticket:created:${res.body.id}:0`,
      },
    ]);
  });

  it('when nobody is signed in, then it is 401 and nothing is stored', async () => {
    const before = await Ticket.countDocuments();
    const res = await request(t.app).post('/api/tickets').send(ticketBody());
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ code: 'unauthorized', errors: [{ message: 'Not signed in' }] });
    expect(await Ticket.countDocuments()).toBe(before);
  });

  it('when the token is signed with another key, then it is 401', async () => {
    const res = await create(ticketBody(), testToken({}, 'some-other-key-123'));
    expect(res.status).toBe(401);
  });

  it.each([
    ['has no exp', { id: 'seller-1', email: 's@x.dev' }, {}],
    ['lives 30 days', { id: 'seller-1', email: 's@x.dev', exp: now() + 30 * 24 * 3600 }, {}],
    ['has a crit header', { id: 'seller-1', email: 's@x.dev', exp: now() + 600 }, { crit: ['ext'], ext: 1 }],
  ])('when the correctly signed token %s, then it is 401 with the error shape and nothing is stored', async (_case, payload, header) => {
    const before = await Ticket.countDocuments();
    const res = await create(ticketBody(), craftedToken(payload, header));
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ code: 'unauthorized', errors: [{ message: 'Not signed in' }] });
    expect(await Ticket.countDocuments()).toBe(before);
  });

  it('when a token made the same way is valid (exp within the maximum, no crit), then it is 201', async () => {
    const res = await create(ticketBody(), craftedToken({ id: 'seller-1', email: 's@x.dev', iat: now(), exp: now() + 600 }));
    expect(res.status).toBe(201);
  });

  it.each([
    ['a missing title', { title: undefined }, 'title', 'Title is required'],
    ['a blank title', { title: '   ' }, 'title', 'Title is required'],
    ['a title that is not a string', { title: 42 }, 'title', 'Title must be a string'],
    ['an operator object as title', { title: { $ne: '' } }, 'title', 'Title must be a string'],
    ['a title over 200 characters', { title: 'x'.repeat(201) }, 'title', 'Title must be at most 200 characters'],
    ['a missing price', { price: undefined }, 'price', 'Price is required'],
    ['a price as a string', { price: '10' }, 'price', 'Price must be a number'],
    ['an operator object as price', { price: { $gt: 0 } }, 'price', 'Price must be a number'],
    ['a null price', { price: null }, 'price', 'Price is required'],
    ['a zero price', { price: 0 }, 'price', 'Price must be greater than 0'],
    ['a negative price', { price: -10 }, 'price', 'Price must be greater than 0'],
    ['an absurd price', { price: 1e12 }, 'price', 'Price must be at most 1000000'],
    ['a price with 3 decimals', { price: 10.005 }, 'price', 'Price must have at most 2 decimals'],
  ])('when the body has %s, then it is 400 naming the field and nothing is stored', async (_case, overrides, field, message) => {
    const before = await Ticket.countDocuments();
    const res = await create(ticketBody(overrides));
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([{ field, message }]);
    expect(await Ticket.countDocuments()).toBe(before);
  });

  it.each([
    ['1e999', 'Price must be at most 1000000'],
    ['-1e999', 'Price must be greater than 0'],
  ])('when the price is an overflowing number (%s parses to ±Infinity), then it is 400 with what is wrong', async (literal, message) => {
    const res = await request(t.app)
      .post('/api/tickets')
      .set(authHeader(testToken()))
      .set('Content-Type', 'application/json')
      .send(`{"title":"Concert","price":${literal}}`);
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([{ field: 'price', message }]);
  });

  describe('titles that are not text', () => {
    /** The body as raw JSON, so that escapes such as \uD800 reach the parser as a client sent them. */
    const createRaw = (escapedTitle: string) =>
      request(t.app)
        .post('/api/tickets')
        .set(authHeader(testToken()))
        .set('Content-Type', 'application/json')
        .send(`{"title":"${escapedTitle}","price":10}`);

    it.each([
      ['a lone high surrogate', String.raw`Concert \uD800`],
      ['a lone low surrogate', String.raw`\uDC00Concert`],
      ['a pair in the wrong order', String.raw`Concert \uDE00\uD83D`],
    ])(
      'when the title has %s, then it is 400 naming title and nothing is stored (it would be stored as U+FFFD)',
      async (_case, escaped) => {
        const before = await Ticket.countDocuments();
        const res = await createRaw(escaped);
        expect(res.status).toBe(400);
        expect(res.body.errors).toEqual([{ field: 'title', message: 'Title must be valid Unicode text (it has a lone surrogate)' }]);
        expect(await Ticket.countDocuments()).toBe(before);
      },
    );

    it.each([
      ['a zero-width space', String.raw`\u200B`],
      ['joiners and a word joiner', String.raw`\u200C\u200D\u2060`],
      ['a byte order mark and a zero-width space', String.raw`\uFEFF\u200B`],
      ['bidi marks among spaces', String.raw` \u200E \u202E\u2066 `],
      ['a soft hyphen and a Hangul filler', String.raw`\u00AD\u3164`],
      ['a tag character and a variation selector', String.raw`\uDB40\uDC20\uFE0F`],
      ['control characters', String.raw`\u0007\u001B`],
    ])(
      'when the title is made only of invisible characters (%s), then it is 400 naming title and nothing is stored',
      async (_case, escaped) => {
        const before = await Ticket.countDocuments();
        const res = await createRaw(escaped);
        expect(res.status).toBe(400);
        expect(res.body.errors).toEqual([{ field: 'title', message: 'Title must have a visible character' }]);
        expect(await Ticket.countDocuments()).toBe(before);
      },
    );

    it('when the title has an emoji (a surrogate pair) and a zero-width joiner between visible characters, then what is answered is what is stored', async () => {
      const res = await createRaw(String.raw`\uD83C\uDFAB Concert\u200Dn \uD83D\uDC68\u200D\uD83D\uDC69`);
      expect(res.status).toBe(201);
      expect(res.body.title).toBe('🎫 Concert\u200Dn 👨\u200D👩');
      expect((await Ticket.findById(res.body.id).orFail()).title).toBe(res.body.title);
    });
  });

  it('when both fields are wrong, then the 400 names both', async () => {
    const res = await create({ title: '', price: 'free' });
    expect(res.status).toBe(400);
    expect(res.body.errors.map((e: { field: string }) => e.field)).toEqual(['title', 'price']);
  });

  it('when the body is malformed JSON, then it is 400', async () => {
    const res = await request(t.app)
      .post('/api/tickets')
      .set(authHeader(testToken()))
      .set('Content-Type', 'application/json')
      .send('{"title":');
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([{ message: 'Malformed JSON body' }]);
  });

  it('when the body is over 100kb, then it is 413 and nothing is stored', async () => {
    const before = await Ticket.countDocuments();
    const res = await create({ title: 'Concert', price: 10, notes: 'x'.repeat(110 * 1024) });
    expect(res.status).toBe(413);
    expect(res.body.errors).toEqual([{ message: 'Request body too large' }]);
    expect(await Ticket.countDocuments()).toBe(before);
  });

  it('when the client sends a userId, orderId or version, then they are ignored: the owner is the signed-in user', async () => {
    const res = await create({ ...ticketBody(), userId: 'someone-else', orderId: 'a'.repeat(24), version: 7 });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ userId: 'seller-1', version: 0 });
    expect(res.body).not.toHaveProperty('orderId');
    const stored = await Ticket.findById(res.body.id).orFail();
    expect(stored.orderId).toBeUndefined();
    expect(stored.userId).toBe('seller-1');
  });

  it.each([
    ['a form post', 'application/x-www-form-urlencoded', 'title=Forged&price=10'],
    ['text/plain holding JSON', 'text/plain', '{"title":"Forged","price":10}'],
  ])('when a signed-in browser is made to send %s, then it is 415 and nothing is stored', async (_name, type, body) => {
    const before = await Ticket.countDocuments();
    const res = await request(t.app)
      .post('/api/tickets')
      .set(authHeader(testToken({ id: 'victim' })))
      .set('Content-Type', type)
      .send(body);
    expect(res.status).toBe(415);
    expect(res.body.errors).toEqual([{ message: 'Request body must be JSON (Content-Type: application/json)' }]);
    expect(await Ticket.countDocuments()).toBe(before);
  });

  it('when the session cookie is garbage, then it is 401 (signed out), not a 500', async () => {
    const res = await request(t.app).post('/api/tickets').set('Cookie', 'session=%%%garbage').send(ticketBody());
    expect(res.status).toBe(401);
    expect(res.headers['content-security-policy']).toBeDefined();
  });
});
