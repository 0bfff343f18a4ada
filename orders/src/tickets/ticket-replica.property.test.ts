import { Subjects, type TicketEventData } from '@ticketing/common';
import { waitFor, eventMessageId } from '@ticketing/common/testing';
import fc from 'fast-check';
import { buildTicketEvent } from '../test-kit/builders';
import { publishTicketEvent } from '../test-kit/events';
import { startHarness, type Harness } from '../test-kit/harness';
import type { TicketCreatedListener } from './ticket-created.listener';
import type { TicketUpdatedListener } from './ticket-updated.listener';
import { Ticket } from './ticket-replica.model';

/**
 * One ticket's history v0..vN as the tickets service publishes it, then delivered in any order,
 * with any events delivered more than once: the replica must end equal to the source's last version.
 */
const deliveries = fc.integer({ min: 1, max: 6 }).chain((last) =>
  fc
    .record({
      changes: fc.array(
        fc.record({
          title: fc.string({ minLength: 1, maxLength: 30 }),
          price: fc.integer({ min: 1, max: 100_000 }).map((cents) => cents / 100),
        }),
        { minLength: last + 1, maxLength: last + 1 },
      ),
      duplicates: fc.array(fc.integer({ min: 0, max: last }), { maxLength: last + 1 }),
    })
    .chain(({ changes, duplicates }) => {
      const versions = [...changes.keys(), ...duplicates];
      return fc.shuffledSubarray(versions, { minLength: versions.length, maxLength: versions.length }).map((order) => ({ changes, order }));
    }),
);

describe('ticket replica under any delivery order (property, real nats-server and MongoDB-protocol server)', () => {
  let h: Harness;
  let created: TicketCreatedListener;
  let updated: TicketUpdatedListener;

  beforeAll(async () => {
    h = await startHarness({ listeners: true });
    ({ ticketCreated: created, ticketUpdated: updated } = h.listeners);
  });
  afterAll(async () => {
    await h.close();
  });

  it('when a ticket’s events arrive shuffled and duplicated, then once all are handled the replica equals the source’s last version', async () => {
    await fc.assert(
      fc.asyncProperty(deliveries, async ({ changes, order }) => {
        const source: TicketEventData[] = [];
        const first = buildTicketEvent(changes[0]);
        changes.forEach((change, version) => source.push({ ...first, ...change, version }));
        const handledBefore = { created: created.stats.handled, updated: updated.stats.handled };

        for (const [delivery, version] of order.entries()) {
          const subject = version === 0 ? Subjects.TicketCreated : Subjects.TicketUpdated;
          // A distinct message id per delivery, so the bus's de-duplication lets duplicates through.
          await publishTicketEvent(h.bus, subject, source[version], `${eventMessageId(subject, source[version])}:delivery-${delivery}`);
        }

        const createdDeliveries = order.filter((v) => v === 0).length;
        await waitFor(
          () =>
            created.stats.handled === handledBefore.created + createdDeliveries &&
            updated.stats.handled === handledBefore.updated + order.length - createdDeliveries,
          { timeoutMs: 20_000, what: 'every delivery to be acknowledged' },
        );
        const replica = await Ticket.findById(first.id).lean();
        const latest = source[source.length - 1];
        expect(replica).toMatchObject({ title: latest.title, price: latest.price, version: latest.version });
      }),
      { numRuns: 15 },
    );
  }, 120_000);
});
