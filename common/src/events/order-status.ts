export const OrderStatus = {
  /** Placed, the ticket is held until the order expires. */
  Created: 'created',
  /** Cancelled by the user or expired: the ticket is free again. */
  Cancelled: 'cancelled',
  AwaitingPayment: 'awaiting:payment',
  Complete: 'complete',
} as const;

export type OrderStatus = (typeof OrderStatus)[keyof typeof OrderStatus];

export const ORDER_STATUSES = Object.values(OrderStatus) as [OrderStatus, ...OrderStatus[]];

/** Statuses in which an order holds its ticket. */
export const ACTIVE_ORDER_STATUSES: readonly OrderStatus[] = [OrderStatus.Created, OrderStatus.AwaitingPayment, OrderStatus.Complete];
