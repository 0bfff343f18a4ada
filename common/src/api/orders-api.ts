import { ORDER_STATUSES } from '../events/order-status';
import {
  document,
  errorResponse,
  jsonBody,
  jsonResponse,
  openApiOperation,
  operation,
  signedIn,
  type OpenApiDocument,
} from './openapi-kit';

/** How many replicas one `GET /api/orders/tickets?ids=` may ask for. */
export const MAX_REPLICA_IDS = 100;

/** How many of the caller's orders one `GET /api/orders` answers at most (and by default). */
export const MAX_ORDERS_PAGE = 100;

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const idParam = (what: string) => ({
  name: 'id',
  in: 'path' as const,
  required: true,
  description: `The ${what} id (anything else is simply one that does not exist: 404)`,
  schema: { type: 'string' },
});

const order = {
  type: 'object',
  required: ['id', 'status', 'expiresAt', 'userId', 'version', 'ticket'],
  properties: {
    id: ref('ObjectId'),
    status: { type: 'string', enum: ORDER_STATUSES },
    expiresAt: { type: 'string', format: 'date-time', description: 'When a `created` order stops holding its ticket' },
    userId: { type: 'string' },
    version: { type: 'integer', minimum: 0 },
    ticket: {
      type: 'object',
      required: ['id', 'title', 'price'],
      properties: { id: ref('ObjectId'), title: { type: 'string' }, price: { type: 'number' } },
      additionalProperties: false,
    },
  },
  additionalProperties: false,
};

const replica = {
  type: 'object',
  description: "Orders' copy of a ticket, built only from ticket events: compare `version` with the source's to see whether it caught up",
  required: ['id', 'title', 'price', 'version'],
  properties: {
    id: ref('ObjectId'),
    title: { type: 'string' },
    price: { type: 'number' },
    version: { type: 'integer', minimum: 0 },
    replicatedAt: { type: 'string', format: 'date-time', description: 'When this version was applied' },
  },
  additionalProperties: false,
};

const hex24 = '[0-9a-fA-F]{24}';

export const ordersOpenApi: OpenApiDocument = document(
  'orders',
  "Orders: order a free ticket (held until the order expires), list, show and cancel one's orders; read the replica of a ticket.",
  {
    '/api/orders/openapi.json': { get: openApiOperation('orders') },
    '/api/orders': {
      post: operation(
        {
          operationId: 'createOrder',
          summary: 'Order a free ticket: it is held for the caller until `expiresAt`',
          tags: ['orders'],
          security: signedIn,
          requestBody: jsonBody({
            type: 'object',
            required: ['ticketId'],
            properties: { ticketId: { type: 'string', pattern: `^${hex24}$` } },
          }),
          responses: {
            '201': jsonResponse('The order, status `created`', ref('Order')),
            '404': errorResponse('No such ticket (or not replicated here yet)'),
            '409': errorResponse('The ticket is held by another order'),
          },
        },
        { write: true },
      ),
      get: operation({
        operationId: 'listOrders',
        summary: "The caller's orders, newest first",
        description: `At most ${MAX_ORDERS_PAGE} (\`limit\`); the next ones with \`before\` set to the id of the last one received.`,
        tags: ['orders'],
        security: signedIn,
        parameters: [
          {
            name: 'limit',
            in: 'query',
            description: `Page size, default and at most ${MAX_ORDERS_PAGE}`,
            schema: { type: 'integer', minimum: 1, maximum: MAX_ORDERS_PAGE },
          },
          {
            name: 'before',
            in: 'query',
            description: "The orders listed after this one of the caller's (the last of the previous page)",
            schema: { type: 'string', pattern: `^${hex24}$` },
          },
        ],
        responses: {
          '200': jsonResponse('Up to `limit` of them', { type: 'array', items: ref('Order') }),
          '400': errorResponse('`limit` or `before` is not valid (`field` names it), or an unknown parameter'),
        },
      }),
    },
    '/api/orders/{id}': {
      get: operation({
        operationId: 'showOrder',
        summary: "One of the caller's orders",
        tags: ['orders'],
        security: signedIn,
        parameters: [idParam('order')],
        responses: {
          '200': jsonResponse('The order', ref('Order')),
          '404': errorResponse("No such order (also for another user's)"),
        },
      }),
      delete: operation(
        {
          operationId: 'cancelOrder',
          summary: 'Cancel a created or awaiting-payment order: the ticket is free again',
          tags: ['orders'],
          security: signedIn,
          parameters: [idParam('order')],
          responses: {
            '200': jsonResponse('The cancelled order', ref('Order')),
            '404': errorResponse('No such order'),
            '409': errorResponse('Already cancelled or complete (or changed meanwhile)'),
          },
        },
        // it takes no body, but one sent anyway is read like any write's (400, 413, 415)
        { write: true },
      ),
    },
    '/api/orders/tickets': {
      get: operation({
        operationId: 'listTicketReplicas',
        summary: "Orders' replicas of several tickets at once",
        description: 'Only the replicas that exist, in no particular order.',
        tags: ['replicas'],
        security: [],
        parameters: [
          {
            name: 'ids',
            in: 'query',
            required: true,
            description: `1 to ${MAX_REPLICA_IDS} ticket ids, comma-separated`,
            schema: { type: 'string', pattern: `^${hex24}(,${hex24}){0,${MAX_REPLICA_IDS - 1}}$` },
          },
        ],
        responses: {
          '200': jsonResponse('The replicas found', {
            type: 'object',
            required: ['tickets'],
            properties: { tickets: { type: 'array', items: ref('TicketReplica'), maxItems: MAX_REPLICA_IDS } },
            additionalProperties: false,
          }),
          '400': errorResponse(`\`ids\` missing, empty, malformed or more than ${MAX_REPLICA_IDS} (field \`ids\`)`),
        },
      }),
    },
    '/api/orders/tickets/{id}': {
      get: operation({
        operationId: 'showTicketReplica',
        summary: "Orders' replica of a ticket",
        tags: ['replicas'],
        security: [],
        parameters: [idParam('ticket')],
        responses: {
          '200': jsonResponse('The replica', ref('TicketReplica')),
          '404': errorResponse('Not replicated here (yet)'),
        },
      }),
    },
  },
  { Order: order, TicketReplica: replica },
);
