#!/usr/bin/env node
/**
 * `npm run rebuild-replica -- --tickets-mongo-url URL --orders-mongo-url URL`: rebuilds orders'
 * ticket replica from tickets' database, for a consumer that fell further behind than the stream
 * keeps (docs/kubernetes.md, "Stream limits"). Run it while orders is stopped.
 */
import { parseCommandLine } from './cli';
import { rebuildTicketReplica } from './replica/rebuild-replica';

const USAGE = `
Usage: npm run -s rebuild-replica -- --tickets-mongo-url URL --orders-mongo-url URL

Rebuilds orders' ticket replica from a snapshot of tickets' database, for when orders refuses to
start with ConsumerBehindStreamError. Stop orders first; start it again afterwards.
Deletes orders' durable consumers of ticket events (they start again at the stream's first
event), then writes every ticket into the replica over any older version.

  --tickets-mongo-url URL  tickets' database, e.g. mongodb://localhost:27017/tickets
  --orders-mongo-url URL   orders' database, e.g. mongodb://localhost:27017/orders
  --help                   this text

NATS_URL (default nats://localhost:4222), NATS_USER and NATS_PASSWORD: a user allowed to delete
orders' consumers (admin on the cluster).
`;

const values = parseCommandLine(USAGE, {
  'tickets-mongo-url': { type: 'string' },
  'orders-mongo-url': { type: 'string' },
});
if (!values['tickets-mongo-url'] || !values['orders-mongo-url']) {
  process.stderr.write(`rebuild-replica: --tickets-mongo-url and --orders-mongo-url are required\n${USAGE}`);
  process.exit(2);
}

rebuildTicketReplica({
  ticketsMongoUrl: values['tickets-mongo-url'],
  ordersMongoUrl: values['orders-mongo-url'],
  natsUrl: process.env.NATS_URL ?? 'nats://localhost:4222',
  natsUser: process.env.NATS_USER,
  natsPassword: process.env.NATS_PASSWORD,
}).then(
  (result) => {
    console.log(
      `rebuild-replica: deleted ${result.consumersDeleted.join(', ') || 'no consumer'}; ` +
        `${result.tickets} tickets, ${result.written} replicas written. Start orders now.`,
    );
    process.exit(0);
  },
  (err: unknown) => {
    console.error(`rebuild-replica: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
