import { Listener, type MessageContext } from './listener';
import type { Bus } from './types';
import type { TicketCreatedEvent, TicketEventData } from '../events/contracts';
import { Subjects } from '../events/subjects';

/** A listener for bus tests: records what it handled, can be told to fail. */
export class RecordingListener extends Listener<TicketCreatedEvent> {
  readonly subject = Subjects.TicketCreated;
  readonly handledEvents: TicketEventData[] = [];
  constructor(
    bus: Bus,
    readonly queueGroupName: string,
    private readonly behaviour: (data: TicketEventData, ctx: MessageContext) => Promise<void> = async () => undefined,
  ) {
    super(bus);
  }
  protected async onMessage(data: TicketEventData, ctx: MessageContext): Promise<void> {
    await this.behaviour(data, ctx);
    this.handledEvents.push(data);
  }
}
