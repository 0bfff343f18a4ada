import { SameTurn, runEach } from './same-turn';

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe('SameTurn', () => {
  it('when tasks are added from separate callbacks of one turn, then they run together, in order, in a later turn', async () => {
    const ran: number[][] = [];
    let batch: number[] = [];
    const turn = new SameTurn<() => void>(runEach(() => undefined));
    // Each immediate is a callback of its own (microtasks run between them), as I/O callbacks are.
    await Promise.all(
      [1, 2, 3].map(
        (n) =>
          new Promise<void>((resolve) =>
            setImmediate(() => {
              turn.add(() => batch.push(n));
              resolve();
            }),
          ),
      ),
    );
    expect(batch).toEqual([]);
    await nextTurn();
    ran.push(batch);
    batch = [];
    turn.add(() => batch.push(4));
    await nextTurn();
    ran.push(batch);
    expect(ran).toEqual([[1, 2, 3], [4]]);
  });

  it('when a task throws, then the error is reported and the tasks after it still run', async () => {
    const errors: unknown[] = [];
    const ran: string[] = [];
    const turn = new SameTurn<() => void>(runEach((err) => errors.push(err)));
    turn.add(() => ran.push('a'));
    turn.add(() => {
      throw new Error('closed');
    });
    turn.add(() => ran.push('c'));
    await nextTurn();
    expect(ran).toEqual(['a', 'c']);
    expect(errors).toEqual([new Error('closed')]);
  });

  it('when flushed, then waiting tasks run at once and not again later', async () => {
    const ran: string[] = [];
    const turn = new SameTurn<() => void>(runEach(() => undefined));
    turn.add(() => ran.push('a'));
    turn.flush();
    expect(ran).toEqual(['a']);
    await nextTurn();
    expect(ran).toEqual(['a']);
  });
});
