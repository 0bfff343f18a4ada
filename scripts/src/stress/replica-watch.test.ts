import { ReplicaWatch, lagMs, type ReplicaView, type Watched } from './replica-watch';

/** A clock that only moves when the watch sleeps, so rounds can be counted exactly. */
function fakeTime() {
  const clock = { now: 1_000_000, slept: [] as number[] };
  return {
    clock,
    now: () => clock.now,
    sleep: async (ms: number) => {
      clock.slept.push(ms);
      clock.now += ms;
    },
  };
}

const ticket = (i: number, version = 2): Watched => ({
  expected: { id: `t${i}`, title: `title-${i}`, price: 15, version },
  updatedAt: 1_000_000,
});

/** Replicas as a map the test moves forward; reads answer what exists, like the read path. */
function replicaStore() {
  const replicas = new Map<string, ReplicaView>();
  const asked: string[][] = [];
  return {
    replicas,
    asked,
    read: async (ids: string[]) => {
      asked.push(ids);
      return ids.flatMap((id) => (replicas.has(id) ? [replicas.get(id)!] : []));
    },
  };
}

describe('ReplicaWatch: how often the stress script reads replicas', () => {
  it('when every replica already matches, then each round reads up to maxIds × parallel tickets, oldest first', async () => {
    const time = fakeTime();
    const store = replicaStore();
    const watch = new ReplicaWatch({ read: store.read, maxIds: 100, parallel: 2, intervalMs: 250, ...time });
    for (let i = 0; i < 1000; i++) {
      const t = ticket(i);
      store.replicas.set(t.expected.id, { ...t.expected, replicatedAt: new Date(1_000_000 + 5).toISOString() });
      watch.add(t);
    }
    await watch.run(() => false, 60_000);
    expect(watch.converged).toBe(1000);
    expect(watch.reads).toBe(10);
    expect(store.asked.every((ids) => ids.length === 100)).toBe(true);
    expect(store.asked[0][0]).toBe('t0');
    expect(time.clock.slept).toEqual([250, 250, 250, 250]); // five rounds of two reads
  });

  it('when replicas are far behind, then the reads are bounded by time, not by the number of tickets waiting', async () => {
    const time = fakeTime();
    const store = replicaStore(); // nothing ever replicated
    const watch = new ReplicaWatch({ read: store.read, maxIds: 100, parallel: 2, intervalMs: 250, ...time });
    for (let i = 0; i < 10_000; i++) watch.add(ticket(i));
    await watch.run(() => false, 10_000);
    // 10 s at 4 rounds a second, two reads each (and the round at the deadline)
    expect(watch.reads).toBeLessThanOrEqual(2 * (10_000 / 250 + 1));
    expect(watch.converged).toBe(0);
    expect(watch.pending).toBe(10_000);
  });

  it('when a ticket is still behind, then it goes to the back of the line so that every waiting ticket is read in turn', async () => {
    const time = fakeTime();
    const store = replicaStore();
    const watch = new ReplicaWatch({ read: store.read, maxIds: 2, parallel: 1, intervalMs: 100, ...time });
    for (let i = 0; i < 5; i++) watch.add(ticket(i));
    await watch.round();
    await watch.round();
    await watch.round();
    expect(store.asked).toEqual([
      ['t0', 't1'],
      ['t2', 't3'],
      ['t4', 't0'],
    ]);
  });

  it('when a replica shows an older version or another title, then it is not taken for converged', async () => {
    const time = fakeTime();
    const store = replicaStore();
    const watch = new ReplicaWatch({ read: store.read, maxIds: 100, parallel: 1, intervalMs: 100, ...time });
    const [a, b, c] = [ticket(1), ticket(2), ticket(3)];
    store.replicas.set('t1', { ...a.expected, version: 1 });
    store.replicas.set('t2', { ...b.expected, title: 'other' });
    store.replicas.set('t3', { ...c.expected });
    [a, b, c].forEach((t) => watch.add(t));
    await watch.round();
    expect(watch.converged).toBe(1);
    expect(watch.pending).toBe(2);
    expect(c.lagMs).toBe(0);
  });

  it('when a read fails, then its tickets stay waiting', async () => {
    const time = fakeTime();
    let fail = true;
    const watch = new ReplicaWatch({
      read: async (ids) => (fail ? null : ids.map((id) => ({ ...ticket(Number(id.slice(1))).expected }))),
      maxIds: 100,
      parallel: 1,
      intervalMs: 100,
      ...time,
    });
    watch.add(ticket(1));
    await watch.round();
    expect(watch.pending).toBe(1);
    fail = false;
    await watch.round();
    expect(watch.pending).toBe(0);
  });

  it('when tickets are still being written, then it keeps watching past the timeout, which counts from the end of the writes', async () => {
    const time = fakeTime();
    const store = replicaStore();
    const watch = new ReplicaWatch({ read: store.read, maxIds: 100, parallel: 1, intervalMs: 100, ...time });
    watch.add(ticket(1));
    let rounds = 0;
    const writing = () => ++rounds < 50; // 5 s of writing
    await watch.run(writing, 1_000);
    expect(time.clock.now - 1_000_000).toBeGreaterThanOrEqual(5_900);
    expect(watch.pending).toBe(1);
  });
});

describe('lagMs', () => {
  const updatedAt = Date.parse('2026-12-01T10:00:00.000Z');
  it('is the time from the update’s response to the replica applying it, by the replica’s own clock', () => {
    expect(lagMs(updatedAt, '2026-12-01T10:00:00.120Z', updatedAt + 5_000)).toBe(120);
  });
  it('is 0 when the replica applied the update before the response reached the script', () => {
    expect(lagMs(updatedAt, '2026-12-01T09:59:59.990Z', updatedAt + 5_000)).toBe(0);
  });
  it('falls back to when the replica was seen when it does not say when it applied the update', () => {
    expect(lagMs(updatedAt, undefined, updatedAt + 300)).toBe(300);
    expect(lagMs(updatedAt, 'not a date', updatedAt + 300)).toBe(300);
  });
});
