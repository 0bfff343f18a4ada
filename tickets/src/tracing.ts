import { startTracing } from '@ticketing/common/tracing';

// Imported first by main.ts: the SDK must be started before express, http and mongodb are loaded.
startTracing('tickets');
