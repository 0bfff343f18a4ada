import request from 'supertest';
import { silentLogger, ticketsOpenApi } from '@ticketing/common';
import { declaredRoutes, documentedRoutes } from '@ticketing/common/testing';
import { useHarness } from './test-kit/harness';
import { createApp } from './app';

describe('the tickets OpenAPI document', () => {
  const t = useHarness();

  it('when asked at /api/tickets/openapi.json, then it is served as JSON (not taken for a ticket id)', async () => {
    const res = await request(t.app).get('/api/tickets/openapi.json');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.body).toEqual(JSON.parse(JSON.stringify(ticketsOpenApi)));
    expect(res.body.openapi).toBe('3.1.0');
  });

  it('describes exactly the routes the app has: none undocumented, none documented that does not exist', () => {
    const app = createApp({ jwtKey: 'k'.repeat(16), relay: t.relay, logger: silentLogger, readiness: {} });
    const routes = declaredRoutes(app).filter((r) => r.split(' ')[1].startsWith('/api/'));
    expect(routes.sort()).toEqual(documentedRoutes(ticketsOpenApi).sort());
  });
});
