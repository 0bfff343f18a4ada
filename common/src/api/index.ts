export * from './openapi-kit';
export * from './tickets-api';
export * from './orders-api';
