/**
 * The reservation half of the cross-service check, on plain records: tickets' `orderId` and
 * orders' active orders must describe the same (ticket, order) pairs.
 */
export interface ReservationMismatches {
  /** Tickets held by more than one active order. */
  heldTwice: string[];
  /** Tickets reserved in tickets by an order that is not active for them in orders. */
  reservedWithoutOrder: string[];
  /** Active orders whose ticket tickets does not show as reserved by them. */
  orderedNotReserved: string[];
}

export function reservationMismatches(
  tickets: { _id: unknown; orderId?: unknown }[],
  activeOrders: { _id: unknown; ticket: unknown }[],
): ReservationMismatches {
  const activeFor = new Map<string, string[]>();
  for (const order of activeOrders)
    activeFor.set(String(order.ticket), [...(activeFor.get(String(order.ticket)) ?? []), String(order._id)]);
  const reservedBy = new Map(tickets.filter((t) => t.orderId).map((t) => [String(t._id), String(t.orderId)]));
  return {
    heldTwice: [...activeFor].filter(([, orders]) => orders.length > 1).map(([ticket]) => ticket),
    reservedWithoutOrder: [...reservedBy].filter(([ticket, order]) => !(activeFor.get(ticket) ?? []).includes(order)).map(([t]) => t),
    orderedNotReserved: activeOrders.filter((o) => reservedBy.get(String(o.ticket)) !== String(o._id)).map((o) => String(o._id)),
  };
}
