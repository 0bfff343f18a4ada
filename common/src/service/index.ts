export { runService, type RunningService } from './run-service';
export { connectMongo } from './database';
export { startEventService, type AppDepsBase } from './start-service';
