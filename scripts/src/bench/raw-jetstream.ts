import { Listener, Subjects, type Bus, type TicketEventData, type TicketUpdatedEvent } from '@ticketing/common';
import { Types } from 'mongoose';
import { eventMessageId, startNatsServer, JetStreamBus } from '@ticketing/common/testing';

class CountingListener extends Listener<TicketUpdatedEvent> {
  readonly subject = Subjects.TicketUpdated;
  readonly queueGroupName = 'bench-raw';
  count = 0;
  onDone?: () => void;
  constructor(
    bus: Bus,
    private readonly target: number,
  ) {
    super(bus);
  }
  protected async onMessage(): Promise<void> {
    if (++this.count === this.target) this.onDone?.();
  }
}

/**
 * The bus alone: publish (stored, with a message id) → consume through our Listener base → ack.
 * Messages per second, end to end through JetStream.
 */
export async function benchRawJetStream(messages: number): Promise<number> {
  // A server of its own (same binary, same machine): the stack's stream already owns the subjects.
  const nats = await startNatsServer();
  const bus = await JetStreamBus.connect({ servers: nats.url, name: 'bench-raw' });
  try {
    return await benchRawBus(bus, messages);
  } finally {
    await bus.close();
    await nats.destroy();
  }
}

/** Publish → consume through our Listener base → ack on a connected bus, whatever its transport: msg/s. */
export async function benchRawBus(bus: Bus, messages: number): Promise<number> {
  const listener = new CountingListener(bus, messages);
  const done = new Promise<void>((resolve) => (listener.onDone = resolve));
  const id = new Types.ObjectId().toHexString();
  const started = performance.now();
  await listener.listen();
  const window = 256;
  for (let i = 0; i < messages; i += window) {
    await Promise.all(
      Array.from({ length: Math.min(window, messages - i) }, (_, k) => {
        const data: TicketEventData = { id, version: i + k, title: 'bench', price: 10, userId: 'bench' };
        return bus.publish(Subjects.TicketUpdated, data, eventMessageId(Subjects.TicketUpdated, data));
      }),
    );
  }
  await done;
  const seconds = (performance.now() - started) / 1000;
  await listener.close();
  return messages / seconds;
}
