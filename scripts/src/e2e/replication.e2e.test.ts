import { Subjects } from '@ticketing/common';
import { waitFor } from '@ticketing/common/testing';
import { runStress } from '../stress/run-stress';
import { listenerStats, startTestStack } from './stack-fixture';

jest.setTimeout(180_000);

describe('the whole stack under the stress script (real processes, real servers)', () => {
  it('when two copies of orders share the work, then 200 concurrent iterations leave 0 mismatches and each ticket event is applied by exactly one copy', async () => {
    const stack = await startTestStack({ ordersReplicas: 2 });
    try {
      const summary = await runStress({ baseUrl: stack.url, token: stack.token, iterations: 200 });
      expect(summary.httpErrors).toEqual({});
      expect(summary.failedIterations).toBe(0);
      expect(summary.firstMismatches).toEqual([]);
      expect(summary.mismatches).toBe(0);

      // 200 ticket:created + 400 ticket:updated went through the bus; the two copies' counts of
      // events *applied* must add up to exactly that: none applied twice, none skipped. (A
      // redelivery under load is acknowledged as a duplicate, with no change: at-least-once
      // delivery, effectively-once application.)
      const perCopy = await Promise.all(stack.orders.map(listenerStats));
      const applied = (subject: string) => perCopy.reduce((sum, s) => sum + s[subject].applied, 0);
      expect(applied(Subjects.TicketCreated)).toBe(200);
      expect(applied(Subjects.TicketUpdated)).toBe(400);
      // and the queue group really spread the work
      for (const copy of perCopy) expect(copy[Subjects.TicketCreated].applied + copy[Subjects.TicketUpdated].applied).toBeGreaterThan(0);
    } finally {
      await stack.stop();
    }
  });

  it('when one copy of orders is killed with SIGKILL mid-run and started again, then nothing is lost: 0 mismatches', async () => {
    const stack = await startTestStack({ ordersReplicas: 2 });
    try {
      const victim = stack.orders[0];
      const run = runStress({ baseUrl: stack.url, token: stack.token, iterations: 200 });
      // kill it once it is busy applying events
      await waitFor(
        async () => {
          const stats = await listenerStats(victim);
          return stats[Subjects.TicketCreated].handled + stats[Subjects.TicketUpdated].handled >= 20;
        },
        { timeoutMs: 60_000, intervalMs: 5 },
      );
      await victim.kill();
      expect(victim.exits.at(-1)?.signal).toBe('SIGKILL');
      await victim.start();
      const summary = await run;
      expect(summary.httpErrors).toEqual({});
      expect(summary.firstMismatches).toEqual([]);
      expect(summary.mismatches).toBe(0);
    } finally {
      await stack.stop();
    }
  });
});
