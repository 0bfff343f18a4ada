/** One error base class: an HTTP status, a stable machine code and the client-facing messages. */
export interface ErrorItem {
  message: string;
  field?: string;
}

export abstract class HttpError extends Error {
  abstract readonly status: number;
  abstract readonly code: string;
  /** When set, the answer carries `Retry-After` (seconds): the client may try again then. */
  readonly retryAfterSeconds?: number;
  abstract serialize(): ErrorItem[];
}

export class ValidationError extends HttpError {
  readonly status = 400;
  readonly code = 'validation_failed';
  constructor(readonly items: ErrorItem[]) {
    super(items.map((i) => (i.field ? `${i.field}: ${i.message}` : i.message)).join('; '));
  }
  serialize(): ErrorItem[] {
    return this.items;
  }
}

function simple(status: number, code: string, defaultMessage: string) {
  return class extends HttpError {
    readonly status = status;
    readonly code = code;
    constructor(message: string = defaultMessage) {
      super(message);
    }
    serialize(): ErrorItem[] {
      return [{ message: this.message }];
    }
  };
}

export class BadRequestError extends simple(400, 'bad_request', 'Bad request') {}
export class UnauthorizedError extends simple(401, 'unauthorized', 'Not signed in') {}
export class ForbiddenError extends simple(403, 'forbidden', 'Not allowed') {}
export class NotFoundError extends simple(404, 'not_found', 'Not found') {}
export class ConflictError extends simple(409, 'conflict', 'Conflict') {}
export class UnsupportedMediaTypeError extends simple(
  415,
  'unsupported_media_type',
  'Request body must be JSON (Content-Type: application/json)',
) {}
export class PayloadTooLargeError extends simple(413, 'payload_too_large', 'Request body too large') {}
export class ServiceUnavailableError extends simple(503, 'unavailable', 'Service temporarily unavailable') {}

/** One client sent more requests than its share (see client-rate-limit.ts). */
export class TooManyRequestsError extends simple(429, 'rate_limited', 'Too many requests; retry later') {}

/** The service is answering its share of costly requests (listings) already: retry shortly. */
export class TooBusyError extends HttpError {
  readonly status = 503;
  readonly code = 'busy';
  constructor(
    message: string,
    override readonly retryAfterSeconds = 1,
  ) {
    super(message);
  }
  serialize(): ErrorItem[] {
    return [{ message: this.message }];
  }
}
