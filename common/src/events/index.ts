export * from './subjects';
export * from './order-status';
export * from './contracts';
