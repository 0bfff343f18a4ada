import mongoose, { Schema } from 'mongoose';
import { ORDER_STATUSES, type OrderStatus } from '@ticketing/common';

/**
 * What tickets knows of each order: the last version of it applied here. Order events are applied
 * in version order against it, and a version already applied is recognised as a duplicate.
 * Only ever changed with single-document atomic operations (no transactions needed).
 */
export interface OrderRefFields {
  /** The order id. */
  _id: string;
  ticketId: string;
  version: number;
  status: OrderStatus;
}

const orderRefSchema = new Schema<OrderRefFields>(
  {
    _id: { type: String, required: true },
    ticketId: { type: String, required: true },
    version: { type: Number, required: true, min: 0 },
    status: { type: String, enum: ORDER_STATUSES, required: true },
  },
  // `version` here is the order's, copied from its events; mongoose must not manage it.
  { collection: 'order_refs', versionKey: false },
);

export const OrderRef = mongoose.model<OrderRefFields>('OrderRef', orderRefSchema);
