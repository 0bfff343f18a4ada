import type { OutboxRelay } from '@ticketing/common';

/** What the order routes need, injected by createApp. */
export interface OrderRouteDeps {
  relay: OutboxRelay;
  clock: () => Date;
  expirationSeconds: number;
}
