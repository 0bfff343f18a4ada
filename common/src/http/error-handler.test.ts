import express from 'express';
import request from 'supertest';
import { body } from 'express-validator';
import { errorHandler, notFound } from './error-handler';
import { ConflictError } from './errors';
import { validateRequest } from './validate-request';
import { createLogger } from '../logger';

function app(logged: string[] = []) {
  const a = express();
  a.use(express.json({ limit: '1kb' }));
  a.post('/things', body('name').isString().withMessage('name must be a string'), validateRequest, (_req, res) => {
    res.status(201).json({});
  });
  a.get('/conflict', () => {
    throw new ConflictError('Already taken');
  });
  a.get('/boom', async () => {
    throw new Error('secret internal detail');
  });
  a.get('/db-down', async () => {
    throw Object.assign(new Error('connect ECONNREFUSED'), { name: 'MongooseServerSelectionError' });
  });
  a.get('/db-lost', async () => {
    // what the driver throws when the connection drops mid-operation: labelled retryable
    const err = Object.assign(new Error('connection 3 to 127.0.0.1:27017 closed'), {
      name: 'MongoServerError',
      hasErrorLabel: (label: string) => label === 'RetryableWriteError',
    });
    throw err;
  });
  a.get('/socket-ended', async () => {
    throw Object.assign(new Error('This socket has been ended by the other party'), { code: 'EPIPE' });
  });
  a.get('/duplicate-key', async () => {
    throw Object.assign(new Error('E11000 duplicate key'), { name: 'MongoServerError', code: 11000, hasErrorLabel: () => false });
  });
  a.use(notFound);
  a.use(errorHandler(createLogger({}, 'error', (line) => logged.push(line))));
  return a;
}

describe('error middleware', () => {
  it('when validation fails, then 400 names each field', async () => {
    const res = await request(app()).post('/things').send({ name: 42 }).expect(400);
    expect(res.body.errors).toEqual([{ message: 'name must be a string', field: 'name' }]);
  });

  it('when the body is malformed JSON, then 400 with a clear message', async () => {
    const res = await request(app()).post('/things').set('Content-Type', 'application/json').send('{"name": ').expect(400);
    expect(res.body.errors[0].message).toBe('Malformed JSON body');
  });

  it('when the body is over the limit, then 413', async () => {
    const res = await request(app())
      .post('/things')
      .send({ name: 'x'.repeat(5000) })
      .expect(413);
    expect(res.body.errors[0].message).toMatch(/too large/);
  });

  it('when a known error is thrown, then its status and message are used', async () => {
    const res = await request(app()).get('/conflict').expect(409);
    expect(res.body).toEqual({ code: 'conflict', errors: [{ message: 'Already taken' }] });
  });

  it('when an unknown error is thrown, then 500 without internals, and it is logged', async () => {
    const logged: string[] = [];
    const res = await request(app(logged)).get('/boom').expect(500);
    expect(JSON.stringify(res.body)).not.toMatch(/secret/);
    expect(logged.join('\n')).toMatch(/secret internal detail/);
  });

  it('when the database is unreachable, then 503 with Retry-After', async () => {
    const res = await request(app()).get('/db-down').expect(503);
    expect(res.headers['retry-after']).toBe('1');
    expect(res.body.errors[0].message).toMatch(/Database unavailable/);
  });

  it('when the connection to the database is lost mid-operation, then 503, but a refused operation stays a 500', async () => {
    await request(app()).get('/db-lost').expect(503);
    await request(app()).get('/socket-ended').expect(503);
    await request(app()).get('/duplicate-key').expect(500);
  });

  it('when no route matches, then a JSON 404', async () => {
    const res = await request(app()).get('/nowhere').expect(404);
    expect(res.body.errors[0].message).toMatch(/No route for GET \/nowhere/);
  });
});
