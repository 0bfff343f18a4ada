import { Router } from 'express';

/**
 * `GET <path>`: the service's OpenAPI document, under the service's own prefix so that the
 * ingress and the local gateway route it as they route the API. Mount it before a `/:id` route.
 */
export function openApiRouter(path: string, document: object): Router {
  const router = Router();
  const body = JSON.stringify(document);
  router.get(path, (_req, res) => {
    res.type('application/json').send(body);
  });
  return router;
}
