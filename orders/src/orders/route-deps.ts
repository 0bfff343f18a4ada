import type { Logger, OutboxRelay } from '@ticketing/common';

/** What the order routes need, injected by createApp. */
export interface OrderRouteDeps {
  relay: OutboxRelay;
  logger: Logger;
  clock: () => Date;
  expirationSeconds: number;
}
