import createClient, { type Client } from 'openapi-fetch';
import type { components as TicketsComponents, paths as TicketsPaths } from './generated/tickets';
import type { components as OrdersComponents, paths as OrdersPaths } from './generated/orders';

export type { TicketsPaths, OrdersPaths };
export type Ticket = TicketsComponents['schemas']['Ticket'];
export type TicketPage = TicketsComponents['schemas']['TicketPage'];
export type Order = OrdersComponents['schemas']['Order'];
export type TicketReplica = OrdersComponents['schemas']['TicketReplica'];
/** The one error shape every 4xx and 5xx answer has. */
export type ApiError = TicketsComponents['schemas']['Error'];

export interface TicketingClientOptions {
  /** The origin serving both APIs (`http://localhost:3000`); empty in a browser on that origin. */
  baseUrl?: string;
  /** A JWT sent as `Authorization: Bearer`; a browser relies on its `session` cookie instead. */
  token?: string;
  fetch?: typeof fetch;
}

export interface TicketingClient {
  tickets: Client<TicketsPaths>;
  orders: Client<OrdersPaths>;
}

/**
 * Both APIs, typed from their OpenAPI documents: paths, parameters, bodies and every documented
 * answer (`data` for a 2xx, `error` in the error shape otherwise, `response.status` for which).
 */
export function createTicketingClient(options: TicketingClientOptions = {}): TicketingClient {
  const shared = {
    baseUrl: options.baseUrl ?? '',
    headers: options.token ? { Authorization: `Bearer ${options.token}` } : undefined,
    // same-origin cookies only: the session cookie never goes to another origin
    credentials: 'same-origin' as const,
    ...(options.fetch ? { fetch: options.fetch } : {}),
  };
  return { tickets: createClient<TicketsPaths>(shared), orders: createClient<OrdersPaths>(shared) };
}

/** The server's messages of an error answer, one line (the field named where there is one). */
export function errorMessage(error: unknown): string {
  const items = (error as Partial<ApiError> | undefined)?.errors;
  if (!Array.isArray(items) || items.length === 0) return 'The server gave no reason';
  return items.map((e) => (e.field ? `${e.field}: ${e.message}` : e.message)).join('; ');
}
