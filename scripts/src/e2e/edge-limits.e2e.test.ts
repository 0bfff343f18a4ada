import { authHeader, testToken } from '@ticketing/common/testing';
import { startTestStack } from './stack-fixture';

jest.setTimeout(120_000);

describe('the rate limit through the local stack (real processes, real servers)', () => {
  it('when an anonymous client forges X-Forwarded-For through the gateway, then it is still counted under the address the gateway saw: 429 past its budget, while a signed-in user is answered', async () => {
    const stack = await startTestStack({ serviceEnv: { LOG_LEVEL: 'warn', RATE_LIMIT_ANONYMOUS: '5' } });
    try {
      const get = (path: string, headers: Record<string, string> = {}) => fetch(stack.url + path, { headers });
      for (let i = 0; i < 5; i++) expect((await get('/api/tickets', { 'x-forwarded-for': `198.51.100.${i}` })).status).toBe(200);
      const refused = await get('/api/tickets', { 'x-forwarded-for': '198.51.100.99' });
      expect(refused.status).toBe(429);
      expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(await refused.json()).toEqual({ code: 'rate_limited', errors: [{ message: expect.any(String) }] });
      // orders counts on its own (each service, each copy, has its budget)
      expect((await get('/api/orders/tickets/0123456789abcdef01234567')).status).toBe(404);
      expect((await get('/api/tickets', authHeader(testToken()))).status).toBe(200);
    } finally {
      await stack.stop();
    }
  });
});
