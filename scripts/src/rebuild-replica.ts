#!/usr/bin/env node
/**
 * `npm run rebuild-replica -- --tickets-mongo-url URL --orders-mongo-url URL [--of tickets]`:
 * rebuilds a service's copy of the other's data from the owner's database, for a consumer that fell
 * further behind than the stream keeps (docs/kubernetes.md, "Stream limits"). Run it while that
 * service is stopped.
 */
import { oneOf, parseCommandLine } from './cli';
import { rebuildTicketReplica } from './replica/rebuild-replica';
import { rebuildOrderReferences } from './replica/rebuild-order-references';

const USAGE = `
Usage: npm run -s rebuild-replica -- --tickets-mongo-url URL --orders-mongo-url URL [--of orders|tickets]

For a service that refuses to start with ConsumerBehindStreamError: rebuilds its copy of the other
service's data from a snapshot of the owner's database. Stop that service first; start it again
afterwards. Deletes its durable consumers of the other's events (they start again at the
stream's first event), then:

  --of orders (default)    orders' ticket replica: every ticket written over any older version
  --of tickets             tickets' order references, each over any older version, and each
                           ticket held by the active order that names it (or by none), with its
                           ticket:updated in its outbox when that changes it

  --tickets-mongo-url URL  tickets' database, e.g. mongodb://localhost:27017/tickets
  --orders-mongo-url URL   orders' database, e.g. mongodb://localhost:27017/orders
  --help                   this text

NATS_URL (default nats://localhost:4222), NATS_USER and NATS_PASSWORD: a user allowed to delete
the service's consumers (admin on the cluster).
`;

const values = parseCommandLine(USAGE, {
  'tickets-mongo-url': { type: 'string' },
  'orders-mongo-url': { type: 'string' },
  of: { type: 'string', default: 'orders' },
});
const of = oneOf('rebuild-replica', 'of', values.of, ['orders', 'tickets'] as const);
if (!values['tickets-mongo-url'] || !values['orders-mongo-url']) {
  process.stderr.write(`rebuild-replica: --tickets-mongo-url and --orders-mongo-url are required\n${USAGE}`);
  process.exit(2);
}
const options = {
  ticketsMongoUrl: values['tickets-mongo-url'],
  ordersMongoUrl: values['orders-mongo-url'],
  natsUrl: process.env.NATS_URL ?? 'nats://localhost:4222',
  natsUser: process.env.NATS_USER,
  natsPassword: process.env.NATS_PASSWORD,
};

const rebuild =
  of === 'orders'
    ? rebuildTicketReplica(options).then(
        (r) =>
          `deleted ${r.consumersDeleted.join(', ') || 'no consumer'}; ${r.tickets} tickets, ${r.written} replicas written. Start orders now.`,
      )
    : rebuildOrderReferences(options).then(
        (r) =>
          `deleted ${r.consumersDeleted.join(', ') || 'no consumer'}; ${r.orders} orders, ${r.written} references written, ` +
          `${r.reservationsChanged} tickets' holders set or cleared` +
          (r.heldTwice.length ? `; held by more than one active order, left as they are: ${r.heldTwice.join(', ')}` : '') +
          '. Start tickets now.',
      );
rebuild.then(
  (summary) => {
    console.log(`rebuild-replica: ${summary}`);
    process.exit(0);
  },
  (err: unknown) => {
    console.error(`rebuild-replica: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
