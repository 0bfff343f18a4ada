import { ORDER_STATUSES, outboxField, type OrderStatus, type WithOutbox } from '@ticketing/common';
import { Schema, model, type HydratedDocument, type Types } from 'mongoose';

export interface OrderFields extends WithOutbox {
  userId: string;
  status: OrderStatus;
  /** The deadline lives in the database so that expiry survives restarts and any copy can run it. */
  expiresAt: Date;
  /** The replica's id, which is the tickets service's id. */
  ticket: Types.ObjectId;
  version: number;
  createdAt: Date;
}

const orderSchema = new Schema<OrderFields>(
  {
    userId: { type: String, required: true },
    status: { type: String, enum: ORDER_STATUSES, required: true },
    expiresAt: { type: Date, required: true },
    ticket: { type: Schema.Types.ObjectId, ref: 'Ticket', required: true },
    ...outboxField,
  },
  {
    // Every save increments `version` and fails with a VersionError if someone saved in between:
    // that is what makes a cancel and an expiry (or two expiries) race safely.
    versionKey: 'version',
    optimisticConcurrency: true,
    timestamps: { createdAt: true, updatedAt: false },
  },
);
orderSchema.index({ userId: 1, createdAt: -1 });
orderSchema.index({ status: 1, expiresAt: 1 });

export const Order = model<OrderFields>('Order', orderSchema);
export type OrderDocument = HydratedDocument<OrderFields>;
