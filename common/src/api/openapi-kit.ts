/**
 * Pieces both services' OpenAPI 3.1 documents share: the one error shape, the two ways to sign in,
 * the ids, and the answers every route can give (413, 415, 429, 500, 503). Plain objects: the documents
 * are data, served as they are and checked against every response the route tests see
 * (`common/src/testing/contract.ts`).
 */

export type JsonSchema = Record<string, unknown>;
export type OpenApiDocument = {
  openapi: '3.1.0';
  info: { title: string; version: string; description?: string };
  paths: Record<string, Record<string, Operation>>;
  components: Record<string, Record<string, unknown>>;
  [key: string]: unknown;
};
export interface Operation {
  operationId: string;
  summary: string;
  description?: string;
  tags?: string[];
  security?: Record<string, string[]>[];
  parameters?: Parameter[];
  requestBody?: { required: boolean; content: { 'application/json': { schema: JsonSchema } } };
  responses: Record<string, Response>;
}
export interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header';
  required?: boolean;
  description?: string;
  schema: JsonSchema;
}
export interface Response {
  description: string;
  headers?: Record<string, { required?: boolean; description?: string; schema: JsonSchema }>;
  content?: { 'application/json': { schema: JsonSchema } };
}

/** 24 hex digits, the id form both services share (they answer in lower case). */
export const objectIdSchema: JsonSchema = { type: 'string', pattern: '^[0-9a-f]{24}$', description: 'A record id: 24 hex digits' };

export const errorSchema: JsonSchema = {
  type: 'object',
  description: 'The one error shape: every 4xx and 5xx answer. `field` names the offending input when there is one.',
  required: ['errors'],
  properties: {
    code: { type: 'string', description: 'A stable machine-readable code, e.g. `validation_failed`, `conflict`' },
    errors: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        required: ['message'],
        properties: { message: { type: 'string' }, field: { type: 'string' } },
        additionalProperties: false,
      },
    },
  },
  additionalProperties: false,
};

export const securitySchemes = {
  bearerAuth: {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description:
      'An HS256 JWT `{ id, email, exp }` signed with the shared JWT_KEY, in `Authorization: Bearer <jwt>`. Refused (401 on a route that needs it) without `exp`, living longer than JWT_MAX_LIFETIME_SECONDS (24 h unless set), or with a `crit` header.',
  },
  sessionCookie: {
    type: 'apiKey',
    in: 'cookie',
    name: 'session',
    description:
      'The same JWT in the `session` cookie, in cookie-session format: base64 of `{"jwt":"<jwt>"}`. Set HttpOnly and SameSite=Lax by the sign-in (the web app in the local stack). A cookie that is not a valid session means signed out, never an error by itself.',
  },
} as const;

/** Either way of signing in will do. */
export const signedIn: Record<string, string[]>[] = [{ bearerAuth: [] }, { sessionCookie: [] }];

const errorRef = { $ref: '#/components/schemas/Error' };
const errorContent = { 'application/json': { schema: errorRef } };

export function errorResponse(description: string): Response {
  return { description, content: errorContent };
}

export function jsonResponse(description: string, schema: JsonSchema, headers?: Response['headers']): Response {
  return { description, ...(headers ? { headers } : {}), content: { 'application/json': { schema } } };
}

export function jsonBody(schema: JsonSchema): Operation['requestBody'] {
  return { required: true, content: { 'application/json': { schema } } };
}

/** What any route can answer besides its own outcomes. */
const everywhere: Record<string, Response> = {
  '429': {
    description:
      'Over the per-client rate limit (per signed-in user, otherwise per client address): retry after `Retry-After` seconds. `RateLimit` and `RateLimit-Policy` (IETF draft 8) tell the budget left.',
    headers: { 'Retry-After': { schema: { type: 'string' } } },
    content: errorContent,
  },
  '500': errorResponse('Unexpected failure (details are logged, never sent)'),
  '503': {
    description: 'The database is unreachable, or (a listing) too many listings run at once: retry shortly',
    headers: { 'Retry-After': { schema: { type: 'string' } } },
    content: errorContent,
  },
};
/** What any write with a body can also answer. */
const writes: Record<string, Response> = {
  '400': errorResponse('Malformed JSON, or a field breaks a rule (`field` names it)'),
  '413': errorResponse('The body is over 100 kB'),
  '415': errorResponse('The body is not JSON (`Content-Type: application/json`): a form post never reaches a handler'),
};

export function operation(op: Operation, kind: { write?: boolean } = {}): Operation {
  const responses = { ...everywhere, ...(kind.write ? writes : {}), ...op.responses };
  if (op.security?.length && !responses['401']) responses['401'] = errorResponse('Not signed in (no valid token or session cookie)');
  return { ...op, responses };
}

/** The document itself, served by each service. */
export function openApiOperation(service: string): Operation {
  return operation({
    operationId: `${service}OpenApi`,
    summary: `This document (OpenAPI 3.1)`,
    tags: ['meta'],
    security: [],
    responses: {
      '200': jsonResponse('The OpenAPI document', {
        type: 'object',
        required: ['openapi', 'info', 'paths', 'components'],
        properties: { openapi: { const: '3.1.0' }, info: { type: 'object' }, paths: { type: 'object' }, components: { type: 'object' } },
      }),
    },
  });
}

export function document(
  title: string,
  description: string,
  paths: OpenApiDocument['paths'],
  schemas: Record<string, JsonSchema>,
): OpenApiDocument {
  return {
    openapi: '3.1.0',
    info: { title, version: '1.0.0', description },
    servers: [{ url: '/', description: 'The same origin as the web app (ingress or the local gateway)' }],
    paths,
    components: { schemas: { Error: errorSchema, ObjectId: objectIdSchema, ...schemas }, securitySchemes },
  };
}
