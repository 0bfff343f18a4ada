export * from './types';
export * from './retry-policy';
export * from './listener';
export * from './publisher';
export * from './jetstream-bus';
export * from './same-turn';
export * from './stan-bus';
export * from './connect-bus';
