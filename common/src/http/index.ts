export * from './errors';
export * from './auth-token';
export * from './current-user';
export * from './validate-request';
export * from './error-handler';
export * from './health';
export * from './readiness';
