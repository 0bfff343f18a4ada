/**
 * `@ticketing/common/tracing`: the SDK start-up, importable before anything else of a service is
 * loaded (the package's main entry loads express and mongoose, which must be loaded after it).
 */
export { startTracing, stopTracing, tracingRequested } from './sdk';
