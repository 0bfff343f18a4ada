export { runService, type RunningService } from './run-service';
export { connectMongo, DB_BUFFER_TIMEOUT_MS } from './database';
export { startEventService, type AppDepsBase } from './start-service';
