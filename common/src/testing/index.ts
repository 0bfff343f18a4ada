export * from './local-paths';
export * from './net';
export * from './child-server';
export * from './nats-server';
export * from './nats-cluster';
export * from './mongo-server';
export * from './helpers';
export * from './stream-reader';
