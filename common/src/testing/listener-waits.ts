import { waitFor } from './helpers';
import type { Listener } from '../bus/listener';
import type { AnyEvent } from '../events/contracts';

/** Runs `act` and waits until the listener has handled (acked) `count` more events. */
export async function afterHandled(listener: Listener<AnyEvent>, act: () => Promise<unknown>, count = 1): Promise<void> {
  const target = listener.stats.handled + count;
  await act();
  await waitFor(() => listener.stats.handled >= target, { what: `${listener.subject} to handle ${count} more event(s)` });
}

/** Runs `act` and waits until the listener has handed at least one more delivery back to retry. */
export async function afterRetried(listener: Listener<AnyEvent>, act: () => Promise<unknown>): Promise<void> {
  const target = listener.stats.retried + 1;
  await act();
  await waitFor(() => listener.stats.retried >= target, { what: `${listener.subject} to retry an event` });
}
