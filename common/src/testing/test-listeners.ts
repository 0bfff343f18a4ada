import { Listener, type BatchItem, type BatchResult, type HandlerOutcome, type MessageContext } from '../bus/listener';
import type { Bus } from '../bus/types';
import type { Logger } from '../logger';
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
    logger?: Logger,
  ) {
    super(bus, logger);
  }
  protected async onMessage(data: TicketEventData, ctx: MessageContext): Promise<HandlerOutcome> {
    const outcome = await this.behaviour(data, ctx);
    this.handledEvents.push(data);
    return outcome;
  }
}

/** A listener for bus tests that handles events in batches: records each batch's size. */
export class BatchingListener extends RecordingListener {
  protected override readonly batchSize = 16;
  readonly batchSizes: number[] = [];
  constructor(
    bus: Bus,
    queueGroupName: string,
    private readonly batchBehaviour: (items: BatchItem<TicketEventData>[]) => Promise<BatchResult[]>,
  ) {
    super(bus, queueGroupName);
  }
  protected override onBatch(items: BatchItem<TicketEventData>[]): Promise<BatchResult>[] {
    this.batchSizes.push(items.length);
    const results = this.batchBehaviour(items).then((all) => {
      all.forEach((r, i) => {
        if ('outcome' in r) this.handledEvents.push(items[i].data);
      });
      return all;
    });
    return items.map((_, i) => results.then((all) => all[i]));
  }
}
