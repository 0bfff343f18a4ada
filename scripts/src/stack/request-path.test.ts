import { normaliseRequestPath } from './request-path';

const pathOf = (target: string) => {
  const result = normaliseRequestPath(target);
  return result.ok ? result.path + result.query : `refused: ${result.reason}`;
};

describe('normaliseRequestPath', () => {
  it.each([
    ['/api/tickets', '/api/tickets'],
    ['/api/tickets?limit=5&cursor=a/../b', '/api/tickets?limit=5&cursor=a/../b'],
    ['/api/orders/../../internal/stats', '/internal/stats'],
    ['/api/tickets/%2e%2e/%2e%2e/internal/stats', '/internal/stats'],
    ['/api/tickets/%2E%2e/%2e./.%2E/metrics', '/metrics'],
    ['/api/tickets/./a/./b', '/api/tickets/a/b'],
    ['/api/tickets/a/..', '/api/tickets/'],
    ['/../../../metrics', '/metrics'],
    ['/api/tickets/%252e%252e/%252e%252e/internal/stats', '/api/tickets/%252e%252e/%252e%252e/internal/stats'],
    ['/api/tickets/...', '/api/tickets/...'],
    ['/internal/../api/orders/1', '/api/orders/1'],
  ])('%s is routed as %s', (target, expected) => {
    expect(pathOf(target)).toBe(expected);
  });

  it.each([
    '/api/tickets/..%2f..%2finternal/stats',
    '/api/tickets/..%2F..%2Finternal/stats',
    '/api/tickets/..\\..\\internal/stats',
    '/api/tickets/..%5c..%5cinternal/stats',
    '/api/tickets/x%00',
    '/api/tickets#/../../internal/stats',
    'http://localhost/internal/stats',
    '*',
  ])('%s is refused', (target) => {
    expect(pathOf(target)).toMatch(/^refused: /);
  });
});
