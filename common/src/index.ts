export * from './events';
export * from './bus';
export * from './http';
export * from './outbox';
export * from './service';
export {
  httpTimeoutsOf,
  parseConfig,
  loadConfigOrExit,
  httpTimeoutsEnvShape,
  hostSetting,
  jwtMaxLifetimeSetting,
  serviceEnvShape,
} from './config';
export { createLogger, silentLogger, type Logger } from './logger';
export * from './lru-map';
export * from './metrics';
export * from './api';
export { isObjectIdString } from './object-id';
