/** The four event subjects, the only names the services use on the bus. */
export const Subjects = {
  TicketCreated: 'ticket:created',
  TicketUpdated: 'ticket:updated',
  OrderCreated: 'order:created',
  OrderUpdated: 'order:updated',
} as const;

export type Subject = (typeof Subjects)[keyof typeof Subjects];

export const ALL_SUBJECTS: readonly Subject[] = Object.values(Subjects);
