/**
 * The parts of common that the tests and the scripts use and the services do not (a service gets
 * its bus, readiness and HTTP server through startEventService): exported here, so that
 * `@ticketing/common` is what a service uses.
 */
export { eventMessageId } from '../events/contracts';
export { ALL_SUBJECTS, type Subject } from '../events/subjects';
export { JetStreamBus, durableName, STREAM_LIMITS, DEFAULT_STREAM } from '../bus/jetstream-bus';
export { StanBus } from '../bus/stan-bus';
export { SameTurn } from '../bus/same-turn';
export { verifySession, decodeSessionCookie } from '../http/auth-token';
export { createHttpServer, answerJson, type HttpTimeouts } from '../http/serve-http';
export { serviceReadiness } from '../http/readiness';
export { DB_BUFFER_TIMEOUT_MS } from '../service/database';
export { ConfigError, EVENT_BUSES, type EventBusKind } from '../config';
export { type OpenApiDocument } from '../api/openapi-kit';
