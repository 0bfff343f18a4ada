import { Listener, type HandlerOutcome, type MessageContext } from './listener';
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
    private readonly behaviour: (data: TicketEventData, ctx: MessageContext) => Promise<HandlerOutcome> = async () => undefined,
  ) {
    super(bus);
  }
  protected async onMessage(data: TicketEventData, ctx: MessageContext): Promise<HandlerOutcome> {
    const outcome = await this.behaviour(data, ctx);
    this.handledEvents.push(data);
    return outcome;
  }
}
