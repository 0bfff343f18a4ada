import { z } from 'zod';
import { OBJECT_ID } from '../object-id';
import { ORDER_STATUSES } from './order-status';
import { Subjects, type Subject } from './subjects';

/** A MongoDB ObjectId in its 24-hex-digit string form: ids are shared by both services. */
const objectId = z.string().regex(OBJECT_ID, 'must be a 24-hex-digit id');
const version = z.number().int().min(0);

export const ticketEventSchema = z.strictObject({
  id: objectId,
  version,
  title: z.string().min(1).max(200),
  price: z.number().positive().finite(),
  userId: z.string().min(1),
  orderId: objectId.optional(),
});

export const orderEventSchema = z.strictObject({
  id: objectId,
  version,
  status: z.enum(ORDER_STATUSES),
  userId: z.string().min(1),
  expiresAt: z.iso.datetime(),
  ticket: z.strictObject({ id: objectId, price: z.number().positive().finite() }),
});

export type TicketEventData = z.infer<typeof ticketEventSchema>;
export type OrderEventData = z.infer<typeof orderEventSchema>;

export interface TicketCreatedEvent {
  subject: typeof Subjects.TicketCreated;
  data: TicketEventData;
}
export interface TicketUpdatedEvent {
  subject: typeof Subjects.TicketUpdated;
  data: TicketEventData;
}
export interface OrderCreatedEvent {
  subject: typeof Subjects.OrderCreated;
  data: OrderEventData;
}
export interface OrderUpdatedEvent {
  subject: typeof Subjects.OrderUpdated;
  data: OrderEventData;
}

export type AnyEvent = TicketCreatedEvent | TicketUpdatedEvent | OrderCreatedEvent | OrderUpdatedEvent;
export type EventFor<S extends Subject> = Extract<AnyEvent, { subject: S }>;

/** The runtime schema of each subject's payload; consumers validate at the edge with it. */
export const eventSchemas: { [S in Subject]: z.ZodType<EventFor<S>['data']> } = {
  [Subjects.TicketCreated]: ticketEventSchema,
  [Subjects.TicketUpdated]: ticketEventSchema,
  [Subjects.OrderCreated]: orderEventSchema,
  [Subjects.OrderUpdated]: orderEventSchema,
};

/**
 * The message id of an event: one per (subject, record, version), so publishing the same event
 * twice is dropped by the bus's de-duplication.
 */
export function eventMessageId(subject: Subject, data: { id: string; version: number }): string {
  return `${subject}:${data.id}:${data.version}`;
}

/** Explains why a payload does not match its schema, one line, naming the fields. */
export function describeSchemaError(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.length ? issue.path.join('.') : '(payload)'}: ${issue.message}`).join('; ');
}
