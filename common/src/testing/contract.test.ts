import express from 'express';
import request from 'supertest';
import { document, jsonBody, jsonResponse, operation, signedIn } from '../api/openapi-kit';
import { contractChecked, declaredRoutes, documentedRoutes } from './contract';

const doc = document(
  'things',
  'a tiny API to check the checker',
  {
    '/api/things': {
      post: operation(
        {
          operationId: 'makeThing',
          summary: 'make one',
          security: signedIn,
          requestBody: jsonBody({ type: 'object', required: ['name'], properties: { name: { type: 'string', maxLength: 5 } } }),
          responses: {
            '201': jsonResponse(
              'made',
              { $ref: '#/components/schemas/Thing' },
              { ETag: { required: true, schema: { type: 'string', pattern: '^"\\d+"$' } } },
            ),
          },
        },
        { write: true },
      ),
      get: operation({
        operationId: 'listThings',
        summary: 'list',
        parameters: [{ name: 'limit', in: 'query', schema: { type: 'integer', maximum: 10 } }],
        responses: { '200': jsonResponse('all', { type: 'array', items: { $ref: '#/components/schemas/Thing' } }) },
      }),
    },
    '/api/things/{id}': {
      get: operation({
        operationId: 'showThing',
        summary: 'one',
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string', pattern: '^\\d+$' } }],
        responses: { '200': jsonResponse('it', { $ref: '#/components/schemas/Thing' }) },
      }),
    },
  },
  { Thing: { type: 'object', required: ['name'], properties: { name: { type: 'string' } }, additionalProperties: false } },
);

/** An app that answers whatever the test tells it to, to play a service that drifted. */
function checked(answer: (req: express.Request, res: express.Response) => void) {
  const app = express();
  app.use(express.json());
  app.post('/api/things', answer);
  app.get('/api/things', answer);
  app.get('/api/things/:id', answer);
  app.use((_req, res) => {
    res.status(404).json({ errors: [{ message: 'nope' }] });
  });
  return contractChecked(app, doc);
}

describe('the OpenAPI contract checker', () => {
  it('when every exchange matches the document, then there is nothing to report', async () => {
    const c = checked((req, res) => {
      if (req.method === 'POST') res.status(201).set('ETag', '"0"').json({ name: req.body.name });
      else if (req.params.id) res.json({ name: req.params.id });
      else res.json([{ name: 'a' }]);
    });
    await request(c.app).post('/api/things').set('Authorization', 'Bearer t').send({ name: 'abc' });
    await request(c.app).get('/api/things?limit=3');
    await request(c.app).get('/api/things/12');
    await request(c.app).get('/api/unknown');
    await request(c.app).get('/healthz');
    expect(c.violations).toEqual([]);
  });

  it('when a response body, status or required header differs from the document, then each is reported', async () => {
    const c = checked((req, res) => {
      if (req.method === 'POST') res.status(201).json({ name: 'x' });
      else if (req.params.id) res.status(202).json({ name: 'x' });
      else res.json([{ name: 'a', extra: true }]);
    });
    await request(c.app).post('/api/things').set('Authorization', 'Bearer t').send({ name: 'abc' });
    await request(c.app).get('/api/things/1');
    await request(c.app).get('/api/things');
    expect(c.violations).toEqual([
      expect.stringMatching(/POST \/api\/things → 201 \(header ETag\): .*must match pattern/),
      expect.stringContaining('status 202 is not documented for GET /api/things/{id}'),
      expect.stringMatching(/GET \/api\/things → 200: \/0 must NOT have additional properties/),
    ]);
  });

  it('when the service accepts a request the document does not allow, then it is reported', async () => {
    const c = checked((req, res) => {
      if (req.method === 'POST') res.status(201).set('ETag', '"0"').json({ name: 'n' });
      else if (req.params.id) res.json({ name: 'n' });
      else res.json([]);
    });
    await request(c.app).post('/api/things').send({ name: 'far too long' });
    await request(c.app).get('/api/things?limit=50&sort=name');
    await request(c.app).get('/api/things/abc');
    expect(c.violations).toEqual([
      expect.stringMatching(/\(request body\): \/name must NOT have more than 5 characters/),
      expect.stringContaining('accepted without credentials'),
      expect.stringContaining('accepted an undocumented query parameter sort'),
      expect.stringMatching(/\(query limit\): .*must be <= 10/),
      expect.stringMatching(/\(path id\): .*must match pattern/),
    ]);
  });

  it('when an undocumented route answers, or an error is not in the error shape, then it is reported', async () => {
    const app = express();
    app.get('/api/secret', (_req, res) => {
      res.json({ ok: true });
    });
    app.use((_req, res) => {
      res.status(404).send('not json');
    });
    const c = contractChecked(app, doc);
    await request(c.app).get('/api/secret');
    await request(c.app).delete('/api/things/1');
    expect(c.violations).toEqual([
      expect.stringContaining('undocumented route answered 200'),
      expect.stringContaining('DELETE /api/things/1 → 404'),
    ]);
  });

  it('lists the routes an app declares and the ones a document describes, in one spelling', () => {
    const router = express.Router();
    router.get('/api/things/:id', (_req, res) => res.end());
    const app = express();
    app.post('/api/things', (_req, res) => res.end());
    app.use(router);
    expect(declaredRoutes(app).sort()).toEqual(['GET /api/things/{id}', 'POST /api/things']);
    expect(documentedRoutes(doc).sort()).toEqual(['GET /api/things', 'GET /api/things/{id}', 'POST /api/things']);
  });
});
