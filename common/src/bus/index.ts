// What the services, the scripts and their tests use. The retry policy, the transport choice
// (connectBus, used by startEventService) and the buses' options stay inside common.
export { type Bus } from './types';
export * from './listener';
export * from './publisher';
export { JetStreamBus, durableName, STREAM_LIMITS, DEFAULT_STREAM } from './jetstream-bus';
export { SameTurn } from './same-turn';
export { StanBus } from './stan-bus';
