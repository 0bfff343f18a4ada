export * from './events';
export * from './bus';
export * from './http';
export * from './outbox';
export * from './config';
export * from './logger';
export * from './lru-map';
export * from './api';
