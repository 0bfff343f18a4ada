import express, { type Express } from 'express';
import Ajv2020, { type ErrorObject, type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import type { OpenApiDocument, Operation, Parameter } from '../api/openapi-kit';

/** What one exchange looked like, as the checker saw it. */
export interface Exchange {
  method: string;
  url: string;
  requestHeaders: Record<string, string | string[] | undefined>;
  requestBody: Buffer;
  status: number;
  responseHeaders: Record<string, unknown>;
  responseBody: Buffer;
}

interface Route {
  method: string;
  template: string;
  pattern: RegExp;
  names: string[];
  operation: Operation;
}

/**
 * Checks real exchanges against an OpenAPI document, so that the document cannot drift from the
 * code: every answer under `/api/` must be a documented status of a documented operation with a
 * body matching its schema (and its required headers); an unknown route may only be a 404. And an
 * exchange the service accepted (2xx) must have sent what the document allows: path, query and
 * body valid, credentials present where it requires them (a service accepting more than it
 * documents has drifted too).
 */
export class ContractChecker {
  private readonly ajv: Ajv2020;
  private readonly routes: Route[];
  private readonly compiled = new Map<string, ValidateFunction>();

  constructor(readonly document: OpenApiDocument) {
    // strict off: the document is an OpenAPI document, not a schema; its schemas are reached by pointer.
    this.ajv = new Ajv2020({ strict: false, allErrors: true, multipleOfPrecision: 9 });
    addFormats(this.ajv);
    this.ajv.addSchema(document as object, 'doc');
    this.routes = Object.entries(document.paths)
      .flatMap(([template, ops]) =>
        Object.entries(ops).map(([method, operation]) => {
          const names = [...template.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
          const source = template.replace(/[.]/g, '\\.').replace(/\{\w+\}/g, '([^/]+)');
          return { method: method.toUpperCase(), template, pattern: new RegExp(`^${source}$`), names, operation };
        }),
      )
      // a literal segment wins over a parameter: /api/orders/tickets before /api/orders/{id}
      .sort((a, b) => a.names.length - b.names.length);
  }

  /** The problems with one exchange; none when it matches the document. */
  check(x: Exchange): string[] {
    const url = new URL(x.url, 'http://local');
    if (!url.pathname.startsWith('/api/')) return [];
    const label = `${x.method} ${url.pathname}${url.search} → ${x.status}`;
    const onPath = this.routes.filter((r) => r.pattern.test(url.pathname));
    const route = onPath.find((r) => r.method === x.method || (x.method === 'HEAD' && r.method === 'GET'));
    if (!route) {
      if (x.status !== 404) return [`${label}: undocumented route answered ${x.status}`];
      return this.errors(label, '#/components/schemas/Error', this.json(x.responseBody));
    }
    const where = `${route.method} ${route.template}`;
    const response = route.operation.responses[String(x.status)];
    if (!response) return [`${label}: status ${x.status} is not documented for ${where}`];
    const problems: string[] = [];
    for (const [name, header] of Object.entries(response.headers ?? {})) {
      const value = x.responseHeaders[name.toLowerCase()];
      if (value === undefined) {
        if (header.required) problems.push(`${label}: header ${name} missing`);
      } else problems.push(...this.errors(`${label} (header ${name})`, header.schema, String(value)));
    }
    if (response.content && x.method !== 'HEAD') {
      const type = String(x.responseHeaders['content-type'] ?? '');
      if (!type.startsWith('application/json')) problems.push(`${label}: content-type ${type || 'none'}, documented application/json`);
      else
        problems.push(
          ...this.errors(label, this.pointer(route, `responses/${x.status}/content/application~1json/schema`), this.json(x.responseBody)),
        );
    }
    if (x.status >= 200 && x.status < 300) problems.push(...this.checkAcceptedRequest(label, route, url, x));
    return problems;
  }

  private checkAcceptedRequest(label: string, route: Route, url: URL, x: Exchange): string[] {
    const problems: string[] = [];
    const op = route.operation;
    const params = op.parameters ?? [];
    const values = route.pattern.exec(url.pathname)!.slice(1).map(decodeURIComponent);
    route.names.forEach((name, i) => {
      const param = params.find((p) => p.in === 'path' && p.name === name);
      if (!param) problems.push(`${label}: path parameter ${name} is not documented`);
      else problems.push(...this.errors(`${label} (path ${name})`, param.schema, values[i]));
    });
    const query = params.filter((p) => p.in === 'query');
    for (const name of new Set(url.searchParams.keys())) {
      if (!query.some((p) => p.name === name)) problems.push(`${label}: accepted an undocumented query parameter ${name}`);
    }
    for (const param of query) {
      const given = url.searchParams.getAll(param.name);
      if (given.length === 0) {
        if (param.required) problems.push(`${label}: accepted without the required query parameter ${param.name}`);
        continue;
      }
      problems.push(...this.errors(`${label} (query ${param.name})`, param.schema, given.length > 1 ? given : coerce(param, given[0])));
    }
    if (op.requestBody) {
      const body = this.json(x.requestBody);
      problems.push(...this.errors(`${label} (request body)`, this.pointer(route, 'requestBody/content/application~1json/schema'), body));
    }
    if (op.security?.length && !hasCredentials(x.requestHeaders)) problems.push(`${label}: accepted without credentials`);
    return problems;
  }

  private pointer(route: Route, rest: string): string {
    return `#/paths/${route.template.replace(/~/g, '~0').replace(/\//g, '~1')}/${route.method.toLowerCase()}/${rest}`;
  }

  private errors(label: string, schema: string | object, value: unknown): string[] {
    const key = typeof schema === 'string' ? schema : JSON.stringify(schema);
    let validate = this.compiled.get(key);
    if (!validate) {
      validate = this.ajv.compile(typeof schema === 'string' ? { $ref: `doc${schema}` } : schema);
      this.compiled.set(key, validate);
    }
    if (validate(value)) return [];
    return [`${label}: ${describe(validate.errors ?? [])} in ${JSON.stringify(value)?.slice(0, 300)}`];
  }

  private json(body: Buffer): unknown {
    if (body.length === 0) return undefined;
    try {
      return JSON.parse(body.toString('utf8'));
    } catch {
      return { notJson: body.toString('utf8').slice(0, 100) };
    }
  }
}

function coerce(param: Parameter, value: string): unknown {
  const type = param.schema.type;
  if ((type === 'integer' || type === 'number') && value.trim() !== '' && !Number.isNaN(Number(value))) return Number(value);
  return value;
}

function hasCredentials(headers: Exchange['requestHeaders']): boolean {
  const auth = headers.authorization;
  const cookie = String(headers.cookie ?? '');
  return (typeof auth === 'string' && /^Bearer\s+\S+$/i.test(auth)) || /(^|;\s*)session=/.test(cookie);
}

function describe(errors: ErrorObject[]): string {
  return errors.map((e) => `${e.instancePath || '(root)'} ${e.message}${e.params ? ' ' + JSON.stringify(e.params) : ''}`).join('; ');
}

/**
 * Several documents, each for the paths under its own prefix (`/api/tickets`, `/api/orders`): for
 * exchanges with the whole stack through its one origin.
 */
export class StackContract {
  private readonly checkers: { prefix: string; checker: ContractChecker }[];

  constructor(documents: OpenApiDocument[]) {
    this.checkers = documents.map((document) => {
      const first = Object.keys(document.paths)[0] ?? '/';
      return { prefix: first.split('/').slice(0, 3).join('/'), checker: new ContractChecker(document) };
    });
  }

  check(x: Exchange): string[] {
    const { pathname } = new URL(x.url, 'http://local');
    const owner = this.checkers.find(({ prefix }) => pathname === prefix || pathname.startsWith(prefix + '/'));
    return owner ? owner.checker.check(x) : [];
  }

  /**
   * A fetch for the typed client in end-to-end tests: it sends every request for real and checks
   * the exchange, so the documents hold against the running stack too, not only in route tests.
   */
  checkingFetch(violations: string[]): typeof fetch {
    return async (input, init) => {
      const request = new Request(input, init);
      const requestBody = Buffer.from(await request.clone().arrayBuffer());
      const response = await fetch(request);
      const responseBody = Buffer.from(await response.clone().arrayBuffer());
      const url = new URL(request.url);
      violations.push(
        ...this.check({
          method: request.method,
          url: url.pathname + url.search,
          requestHeaders: Object.fromEntries(request.headers),
          requestBody,
          status: response.status,
          responseHeaders: Object.fromEntries(response.headers),
          responseBody,
        }),
      );
      return response;
    };
  }
}

/**
 * The app behind a recorder that checks every exchange against the document. Tests read and clear
 * `violations` after each test (the harnesses do), so a response that does not match fails the
 * test that caused it.
 */
export function contractChecked(
  app: Express,
  document: OpenApiDocument,
  violations: string[] = [],
): { app: Express; violations: string[] } {
  const checker = new ContractChecker(document);
  const outer = express();
  outer.disable('x-powered-by');
  outer.use((req, res, next) => {
    // The body as it arrives, copied without reading the stream (the service's parser does that).
    const requestChunks: Buffer[] = [];
    const push = req.push;
    req.push = function (chunk: unknown, encoding?: BufferEncoding) {
      if (chunk) requestChunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk), encoding));
      return push.call(this, chunk, encoding);
    };
    const responseChunks: Buffer[] = [];
    const keep = (chunk: unknown, encoding: unknown) => {
      if (chunk && typeof chunk !== 'function') {
        responseChunks.push(
          Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk), typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8'),
        );
      }
    };
    const write = res.write;
    const end = res.end;
    res.write = function (this: typeof res, chunk: unknown, ...rest: unknown[]) {
      keep(chunk, rest[0]);
      return (write as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
    } as typeof res.write;
    res.end = function (this: typeof res, chunk?: unknown, ...rest: unknown[]) {
      keep(chunk, rest[0]);
      violations.push(
        ...checker.check({
          method: req.method,
          url: req.originalUrl,
          requestHeaders: req.headers,
          requestBody: Buffer.concat(requestChunks),
          status: res.statusCode,
          responseHeaders: res.getHeaders(),
          responseBody: Buffer.concat(responseChunks),
        }),
      );
      return (end as (...a: unknown[]) => typeof res).call(this, chunk, ...rest);
    } as typeof res.end;
    next();
  });
  outer.use(app);
  return { app: outer, violations };
}

/** For a harness: after each test, fail it if any of its exchanges broke the contract. */
export function failOnContractViolations(violations: string[]): void {
  afterEach(() => {
    const found = violations.splice(0);
    if (found.length) throw new Error(`responses that do not match the OpenAPI document:\n${found.join('\n')}`);
  });
}

interface Layer {
  route?: { path: string; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
}

/**
 * `METHOD /path/{param}` of every route the app (and its routers) declares, in the document's
 * spelling, to compare with the documented operations.
 */
export function declaredRoutes(app: Express): string[] {
  const found: string[] = [];
  const walk = (stack: Layer[]) => {
    for (const layer of stack) {
      if (layer.route) {
        const path = layer.route.path.replace(/:(\w+)/g, '{$1}');
        for (const [method, on] of Object.entries(layer.route.methods))
          if (on && method !== '_all') found.push(`${method.toUpperCase()} ${path}`);
      } else if (layer.handle?.stack) walk(layer.handle.stack);
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack);
  return found;
}

/** `METHOD /path` of every operation in the document. */
export function documentedRoutes(document: OpenApiDocument): string[] {
  return Object.entries(document.paths).flatMap(([path, ops]) => Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`));
}
