// The two OpenAPI documents and the limits they state; the kit that writes them stays inside.
export * from './tickets-api';
export { ordersOpenApi, MAX_ORDERS_PAGE } from './orders-api';
