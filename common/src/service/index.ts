export * from './run-service';
export * from './database';
export * from './start-service';
