import type { HydratedDocument } from 'mongoose';
import type { OutboxEntry, WithOutbox } from './entry';

/** What the write API needs of the relay. */
export interface Dispatcher {
  unpublished(id: string, entries: OutboxEntry[]): OutboxEntry[];
  forget(id: string, removed: OutboxEntry[]): void;
  dispatch(doc: { id: string; outbox: OutboxEntry[] }): Promise<void>;
  storeAndDispatch(id: string, outbox: OutboxEntry[], write: (outbox: OutboxEntry[]) => Promise<boolean>): Promise<boolean>;
}

/** See `OutboxRelay.storeAndDispatch`. */
export async function storeAndDispatch(
  relay: Dispatcher,
  id: string,
  outbox: OutboxEntry[],
  write: (outbox: OutboxEntry[]) => Promise<boolean>,
): Promise<boolean> {
  const keep = relay.unpublished(id, outbox);
  if (!(await write(keep))) return false;
  const dropped = outbox.filter((e) => !keep.includes(e));
  relay.forget(id, dropped);
  void relay.dispatch({ id, outbox: keep });
  return true;
}

/** See `OutboxRelay.saveAndDispatch`. */
export async function saveAndDispatch(relay: Dispatcher, doc: HydratedDocument<WithOutbox>): Promise<void> {
  await relay.storeAndDispatch(String(doc._id), [...doc.outbox], async (keep) => {
    if (keep.length < doc.outbox.length) doc.outbox = keep;
    await doc.save();
    return true;
  });
}
