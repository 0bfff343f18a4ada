import { DeliverPolicy } from '@nats-io/jetstream';
import { jetstream } from '@nats-io/jetstream';
import type { JetStreamBus } from '../bus/jetstream-bus';

export interface StoredMessage<T = unknown> {
  subject: string;
  sequence: number;
  data: T;
  msgId?: string;
}

/**
 * Every message stored in a stream (optionally one subject's), read with an ephemeral ordered
 * consumer: tests assert what was really published, not what a mock saw.
 */
export async function readStream<T = unknown>(
  bus: JetStreamBus,
  options: { subject?: string; stream?: string } = {},
): Promise<StoredMessage<T>[]> {
  const stream = options.stream ?? bus.streamName;
  const info = await bus.manager.streams.info(stream);
  if (info.state.messages === 0) return [];
  const js = jetstream(bus.connection);
  const consumer = await js.consumers.get(stream, {
    filter_subjects: options.subject ? [options.subject] : undefined,
    deliver_policy: DeliverPolicy.All,
  });
  const out: StoredMessage<T>[] = [];
  for (;;) {
    const msg = await consumer.next({ expires: 1000 });
    if (!msg) break;
    out.push({ subject: msg.subject, sequence: msg.info.streamSequence, data: msg.json<T>(), msgId: msg.headers?.get('Nats-Msg-Id') });
    if (msg.info.pending === 0) break;
  }
  return out;
}

/** The dead letters kept for a queue group (or all of them). */
export async function readDeadLetters(bus: JetStreamBus, group?: string) {
  const letters = await readStream<{ group: string; subject: string; payload: string; reason: string }>(bus, {
    stream: bus.deadLetterStreamName,
    subject: group ? `deadletter.${group}` : undefined,
  });
  return letters.map((l) => l.data);
}
