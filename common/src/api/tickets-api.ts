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

/** The limits the tickets routes enforce and the document states: one value for both. */
export const TICKET_LIMITS = {
  /** The event contract caps titles at 200 characters; the API says so first. */
  maxTitleLength: 200,
  /** Above this a price is a typo or an attack, not a ticket. */
  maxPrice: 1_000_000,
  defaultPageSize: 20,
  maxPageSize: 100,
} as const;

/**
 * A character someone can see: not whitespace, not a control character, not a format character
 * (zero-width space, joiners, word joiner, BOM, bidi marks: Unicode's Cf) nor any other character
 * that is ignorable by default (the Hangul fillers, variation selectors…). A title needs one.
 * A regular expression source for the `u` flag, the one JSON Schema patterns are read with.
 */
export const VISIBLE_CHARACTER = '[^\\s\\p{Cc}\\p{Cf}\\p{Default_Ignorable_Code_Point}]';

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const etag = {
  ETag: {
    required: true,
    description: 'The version in quotes, e.g. `"3"`: send it back in `If-Match`',
    schema: { type: 'string', pattern: '^"\\d+"$' },
  },
};
const idParam = {
  name: 'id',
  in: 'path' as const,
  required: true,
  description: 'The ticket id (anything else is simply a ticket that does not exist: 404)',
  schema: { type: 'string' },
};

const ticket = {
  type: 'object',
  required: ['id', 'title', 'price', 'userId', 'version'],
  properties: {
    id: ref('ObjectId'),
    title: { type: 'string', minLength: 1, maxLength: TICKET_LIMITS.maxTitleLength },
    price: { type: 'number', exclusiveMinimum: 0, maximum: TICKET_LIMITS.maxPrice },
    userId: { type: 'string', description: 'The owner' },
    version: { type: 'integer', minimum: 0, description: 'Incremented by every change (edits and reservations)' },
    orderId: { type: 'string', description: 'Present while an order holds the ticket: it cannot be edited then' },
  },
  additionalProperties: false,
};

const ticketFields = {
  title: {
    type: 'string',
    minLength: 1,
    maxLength: TICKET_LIMITS.maxTitleLength,
    pattern: VISIBLE_CHARACTER,
    description: `Trimmed; well-formed Unicode (no lone surrogate such as an unpaired \\uD800); at least one visible character (whitespace, zero-width and other format characters alone are not a title); at most ${TICKET_LIMITS.maxTitleLength} characters`,
  },
  price: {
    type: 'number',
    exclusiveMinimum: 0,
    maximum: TICKET_LIMITS.maxPrice,
    multipleOf: 0.01,
    description: 'At most 2 decimals; a JSON number, never a string',
  },
};

const ticketBody = { type: 'object', required: ['title', 'price'], properties: ticketFields };
const ticketUpdate = {
  type: 'object',
  required: ['title', 'price'],
  properties: {
    ...ticketFields,
    version: { type: 'integer', minimum: 0, description: 'The version being edited (or send `If-Match`): 409 if the ticket moved on' },
  },
};

const page = {
  type: 'object',
  required: ['tickets', 'nextCursor'],
  properties: {
    tickets: { type: 'array', items: ref('Ticket') },
    nextCursor: { oneOf: [ref('ObjectId'), { type: 'null' }], description: 'Pass as `cursor` for the next page; null on the last' },
  },
  additionalProperties: false,
};

export const ticketsOpenApi: OpenApiDocument = document(
  'tickets',
  'Tickets: create, list, show and edit them. Every change publishes a versioned event that the orders service replicates.',
  {
    '/api/tickets/openapi.json': { get: openApiOperation('tickets') },
    '/api/tickets': {
      post: operation(
        {
          operationId: 'createTicket',
          summary: 'Create a ticket owned by the caller',
          tags: ['tickets'],
          security: signedIn,
          requestBody: jsonBody(ref('TicketBody')),
          responses: { '201': jsonResponse('The new ticket, version 0', ref('Ticket'), etag) },
        },
        { write: true },
      ),
      get: operation({
        operationId: 'listTickets',
        summary: 'Free (unreserved) tickets, newest first, a page at a time',
        description: 'Any other query parameter is refused (400), never ignored.',
        tags: ['tickets'],
        security: [],
        parameters: [
          {
            name: 'limit',
            in: 'query',
            description: `Page size, default ${TICKET_LIMITS.defaultPageSize}`,
            schema: { type: 'integer', minimum: 1, maximum: TICKET_LIMITS.maxPageSize },
          },
          {
            name: 'cursor',
            in: 'query',
            description: '`nextCursor` of the previous page',
            schema: { type: 'string', pattern: '^[0-9a-fA-F]{24}$' },
          },
        ],
        responses: {
          '200': jsonResponse('One page', ref('TicketPage')),
          '400': errorResponse('A malformed or unknown query parameter (`field` names it)'),
        },
      }),
    },
    '/api/tickets/{id}': {
      get: operation({
        operationId: 'showTicket',
        summary: 'One ticket',
        tags: ['tickets'],
        security: [],
        parameters: [idParam],
        responses: {
          '200': jsonResponse('The ticket', ref('Ticket'), etag),
          '404': errorResponse('No such ticket'),
        },
      }),
      put: operation(
        {
          operationId: 'updateTicket',
          summary: "Edit one's own ticket (title and price)",
          description:
            'Optimistic concurrency: send the version you saw (`version` in the body or `If-Match: "v"`), and a stale one is refused with 409 naming the current version. Without either, the last write wins (but never silently over a concurrent one).',
          tags: ['tickets'],
          security: signedIn,
          parameters: [
            idParam,
            {
              name: 'If-Match',
              in: 'header',
              description: 'The ETag you last saw, e.g. `"3"` (`W/"3"`, `3` and `*` are accepted too)',
              schema: { type: 'string' },
            },
          ],
          requestBody: jsonBody(ref('TicketUpdate')),
          responses: {
            '200': jsonResponse('The edited ticket, next version', ref('Ticket'), etag),
            '400': errorResponse(
              'A field breaks a rule (`field` names it), If-Match is malformed or disagrees with `version`, or the ticket is reserved by an order',
            ),
            '403': errorResponse('Not the owner'),
            '404': errorResponse('No such ticket'),
            '409': errorResponse('Stale version: the message names the current one'),
          },
        },
        { write: true },
      ),
    },
  },
  { Ticket: ticket, TicketBody: ticketBody, TicketUpdate: ticketUpdate, TicketPage: page },
);
