#!/usr/bin/env node
/**
 * `npm start`: the whole system on this machine (see USAGE).
 */
import { localDir, EVENT_BUSES } from '@ticketing/common/testing';
import { startStack } from './stack/stack';
import { startBanner } from './stack/banner';

import { DEV_JWT_KEY } from './dev-key';
import { oneOf, parseCommandLine, wholeNumber } from './cli';

const USAGE = `
Usage: npm start -- [options]

Starts tickets, orders, MongoDB (or its stand-in) and NATS on this machine, and serves both APIs
on one origin. Uses MONGO_URL, NATS_URL and JWT_KEY when set; otherwise starts its own servers
(data kept in .local/data) and a development JWT key. Ctrl-C stops everything.

  --port N              the one origin (default 3000; env PORT)
  --orders-replicas N   copies of orders sharing its queue group (default 1)
  --tickets-replicas N  copies of tickets (default 1)
  --event-bus B         jetstream (default) or nats-streaming (starts nats-streaming-server;
                        see docs/nats-streaming.md; env EVENT_BUS)
  --nats-nodes N        NATS nodes (default 1; 3 for the cluster of infra/k8s/nats.yaml). NATS runs
                        the deployed config, users included, with passwords made for this run
  --help                this text
`;

async function main() {
  const values = parseCommandLine(USAGE, {
    port: { type: 'string', default: process.env.PORT ?? '3000' },
    'orders-replicas': { type: 'string', default: '1' },
    'tickets-replicas': { type: 'string', default: '1' },
    'event-bus': { type: 'string', default: process.env.EVENT_BUS ?? 'jetstream' },
    'nats-nodes': { type: 'string', default: '1' },
  });
  const jwtKey = process.env.JWT_KEY ?? DEV_JWT_KEY;
  const stack = await startStack({
    port: wholeNumber('start', 'port', values.port, 0),
    ordersReplicas: wholeNumber('start', 'orders-replicas', values['orders-replicas']),
    ticketsReplicas: wholeNumber('start', 'tickets-replicas', values['tickets-replicas']),
    natsNodes: wholeNumber('start', 'nats-nodes', values['nats-nodes']),
    mongoUrl: process.env.MONGO_URL,
    natsUrl: process.env.NATS_URL,
    eventBus: oneOf('start', 'event-bus', values['event-bus'], EVENT_BUSES),
    jwtKey,
    dataDir: localDir('data'),
    logDir: 'inherit',
  });
  console.log(startBanner(stack, jwtKey));
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    console.log('stopping…');
    await stack.stop();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
