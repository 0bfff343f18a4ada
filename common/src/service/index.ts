export * from './run-service';
export * from './database';
