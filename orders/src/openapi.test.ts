import request from 'supertest';
import { ordersOpenApi, silentLogger } from '@ticketing/common';
import { declaredRoutes, documentedRoutes } from '@ticketing/common/testing';
import { useHarness } from './test-kit/harness';
import { createApp } from './app';

describe('the orders OpenAPI document', () => {
  const h = useHarness();

  it('when asked at /api/orders/openapi.json, then it is served as JSON without signing in (not taken for an order id)', async () => {
    const res = await request(h.app).get('/api/orders/openapi.json');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.body).toEqual(JSON.parse(JSON.stringify(ordersOpenApi)));
  });

  it('describes exactly the routes the app has: none undocumented, none documented that does not exist', () => {
    const app = createApp({ jwtKey: 'k'.repeat(16), relay: h.relay, logger: silentLogger, readiness: {}, expirationSeconds: 900 });
    const routes = declaredRoutes(app).filter((r) => r.split(' ')[1].startsWith('/api/'));
    const documented = documentedRoutes(ordersOpenApi);
    expect(routes.filter((r) => !documented.includes(r))).toEqual([]);
    expect(documented.filter((r) => !routes.includes(r))).toEqual([]);
  });
});
