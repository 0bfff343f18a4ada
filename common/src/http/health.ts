import { Router } from 'express';

/** A named readiness check: true when that dependency is usable. */
export type ReadinessCheck = () => boolean | Promise<boolean>;

/**
 * `/healthz`: the process is alive and serving. `/readyz`: every dependency is ready (database
 * connected, bus connected, consumers set up); 503 naming the ones that are not.
 */
export function healthRouter(checks: Record<string, ReadinessCheck>): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const results = await Promise.all(
      Object.entries(checks).map(async ([name, check]) => [name, await Promise.resolve(check()).catch(() => false)] as const),
    );
    const failing = results.filter(([, ok]) => !ok).map(([name]) => name);
    res.status(failing.length ? 503 : 200).json({
      status: failing.length ? 'unavailable' : 'ready',
      checks: Object.fromEntries(results),
    });
  });
  return router;
}
