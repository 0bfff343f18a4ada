// What the services use. The buses themselves (connectBus picks one for startEventService), the
// retry policy and the buses' options stay inside common.
export { type Bus } from './types';
export * from './listener';
