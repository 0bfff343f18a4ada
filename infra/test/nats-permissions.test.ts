/**
 * The NATS users of infra/k8s/nats.yaml, enforced by a real nats-server running that config: each
 * service, with its own credentials, runs the whole bus (creates the streams and its durable
 * consumers, publishes its events, consumes the other's, acknowledges, dead-letters), cannot
 * publish the other service's events or read its own through a consumer, and a client without
 * (or with wrong) credentials is refused.
 */
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { Subjects } from '@ticketing/common';
import {
  startNatsCluster,
  waitFor,
  type NatsClusterHandle,
  ALL_SUBJECTS,
  DEFAULT_STREAM,
  durableName,
  JetStreamBus,
  type Subject,
} from '@ticketing/common/testing';
import { QUEUE_GROUP_NAME as ORDERS_GROUP } from '../../orders/src/queue-group';
import { QUEUE_GROUP_NAME as TICKETS_GROUP } from '../../tickets/src/queue-group';

jest.setTimeout(60_000);

let nats: NatsClusterHandle;
const buses: JetStreamBus[] = [];

beforeAll(async () => {
  nats = await startNatsCluster({ nodes: 1 });
});
afterAll(async () => {
  await Promise.all(buses.map((b) => b.close()));
  await nats?.destroy();
});

async function busAs(user: string, password = nats.credentials[user]): Promise<JetStreamBus> {
  const bus = await JetStreamBus.connect({ servers: nats.url, name: `${user}-test`, user, pass: password });
  buses.push(bus);
  return bus;
}

/** Subscribes like the service does (its queue group), and collects what arrives. */
async function collect(bus: JetStreamBus, group: string, subject: Subject): Promise<string[]> {
  const received: string[] = [];
  await bus.consume({ subject, group, concurrency: 1 }, async (delivery) => {
    received.push(delivery.payload);
    delivery.ack();
  });
  return received;
}

describe('NATS users and permissions (a real nats-server running the deployed config)', () => {
  it('let each service run its side of the bus with its own credentials', async () => {
    // A stream made by an older version (fewer subjects): the first service to start updates it.
    const admin = await connect({ servers: nats.url, user: 'admin', pass: nats.credentials.admin });
    const manager = await jetstreamManager(admin);
    await manager.streams.add({ name: DEFAULT_STREAM, subjects: [Subjects.TicketCreated] });
    const tickets = await busAs('tickets');
    const orders = await busAs('orders');
    const ticketEvents = await collect(orders, ORDERS_GROUP, Subjects.TicketCreated);
    const ticketUpdates = await collect(orders, ORDERS_GROUP, Subjects.TicketUpdated);
    const orderEvents = await collect(tickets, TICKETS_GROUP, Subjects.OrderCreated);
    const orderUpdates = await collect(tickets, TICKETS_GROUP, Subjects.OrderUpdated);

    await tickets.publish(Subjects.TicketCreated, { id: 't1', version: 0 }, 'perm-t1-0');
    await tickets.publish(Subjects.TicketUpdated, { id: 't1', version: 1 }, 'perm-t1-1');
    await orders.publish(Subjects.OrderCreated, { id: 'o1', version: 0 }, 'perm-o1-0');
    await orders.publish(Subjects.OrderUpdated, { id: 'o1', version: 1 }, 'perm-o1-1');
    await waitFor(() => ticketEvents.length === 1 && ticketUpdates.length === 1 && orderEvents.length === 1 && orderUpdates.length === 1, {
      what: 'each service to receive the other one’s events',
    });
    expect(JSON.parse(ticketEvents[0])).toEqual({ id: 't1', version: 0 });
    expect(JSON.parse(orderUpdates[0])).toEqual({ id: 'o1', version: 1 });
    expect((await manager.streams.info(DEFAULT_STREAM)).config.subjects?.sort()).toEqual([...ALL_SUBJECTS].sort());
    // Every acknowledgement reached the server (a refused ack would leave the event pending).
    for (const [group, subjects] of [
      [TICKETS_GROUP, [Subjects.OrderCreated, Subjects.OrderUpdated]],
      [ORDERS_GROUP, [Subjects.TicketCreated, Subjects.TicketUpdated]],
    ] as const) {
      for (const subject of subjects) {
        await waitFor(async () => (await manager.consumers.info(DEFAULT_STREAM, durableName(group, subject))).num_ack_pending === 0, {
          what: `${group} to acknowledge ${subject}`,
        });
      }
    }
    await admin.close();

    // Both may dead-letter.
    for (const [bus, group] of [
      [tickets, TICKETS_GROUP],
      [orders, ORDERS_GROUP],
    ] as const) {
      await bus.deadLetter({ group, subject: 'x', sequence: 1, deliveryCount: 1, reason: 'test', payload: '{}' });
    }
    const dead = await tickets.manager.streams.info(tickets.deadLetterStreamName);
    expect(dead.state.messages).toBe(2);
  });

  it('refuse to let a service publish the other service’s events', async () => {
    const tickets = await busAs('tickets');
    const orders = await busAs('orders');
    await expect(tickets.publish(Subjects.OrderCreated, { id: 'forged' }, 'forged-1')).rejects.toThrow(/permission/i);
    await expect(orders.publish(Subjects.TicketUpdated, { id: 'forged' }, 'forged-2')).rejects.toThrow(/permission/i);
    const info = await tickets.manager.streams.info(tickets.streamName, { subjects_filter: '>' });
    // Only what the first test published (one event per subject): nothing forged was stored.
    expect(info.state.subjects).toEqual({
      [Subjects.TicketCreated]: 1,
      [Subjects.TicketUpdated]: 1,
      [Subjects.OrderCreated]: 1,
      [Subjects.OrderUpdated]: 1,
    });
  });

  it('refuse a consumer of a service’s own events, or under the other service’s group', async () => {
    const tickets = await busAs('tickets');
    await expect(
      tickets.consume({ subject: Subjects.TicketCreated, group: TICKETS_GROUP, concurrency: 1 }, async () => undefined),
    ).rejects.toThrow();
    await expect(
      tickets.consume({ subject: Subjects.TicketCreated, group: ORDERS_GROUP, concurrency: 1 }, async () => undefined),
    ).rejects.toThrow();
    await expect(tickets.manager.streams.delete(tickets.streamName)).rejects.toThrow(/permission/i);
  });

  it('refuse a client without credentials, or with a wrong password', async () => {
    await expect(connect({ servers: nats.url, reconnect: false })).rejects.toThrow(/authorization/i);
    await expect(connect({ servers: nats.url, reconnect: false, user: 'tickets', pass: 'not-the-password' })).rejects.toThrow(
      /authorization/i,
    );
    await expect(connect({ servers: nats.url, reconnect: false, user: 'orders', pass: nats.credentials.tickets })).rejects.toThrow(
      /authorization/i,
    );
  });
});
