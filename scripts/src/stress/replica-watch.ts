import type { TicketReplica } from '@ticketing/client';

/** A ticket as `GET /api/orders/tickets?ids=…` shows its replica (the contract's type). */
export type ReplicaView = TicketReplica;

/** A ticket the stress script wrote, waiting for its replica to show the last write. */
export interface Watched {
  expected: ReplicaView;
  /** When the last update's response reached the script (ms since the epoch). */
  updatedAt: number;
  /** Replication lag once the replica was seen to match. */
  lagMs?: number;
}

/** Reads the replicas of up to `maxIds` tickets: those that exist, or null when the read failed. */
export type ReadReplicas = (ids: string[]) => Promise<ReplicaView[] | null>;

export function sameReplica(a: ReplicaView, b: ReplicaView): boolean {
  return a.id === b.id && a.title === b.title && a.price === b.price && a.version === b.version;
}

/**
 * Replication lag: from the last update's response to the moment the replica applied it, by the
 * replica's own `replicatedAt` (same machine clock), so how often the script looks does not blur
 * it. Applied before the response reached the script counts as none. A replica that does not say
 * when is timed by when it was seen.
 */
export function lagMs(updatedAt: number, replicatedAt: string | undefined, seenAt: number): number {
  const applied = replicatedAt === undefined ? NaN : Date.parse(replicatedAt);
  return Math.max(0, (Number.isNaN(applied) ? seenAt : applied) - updatedAt);
}

export interface WatchOptions {
  read: ReadReplicas;
  /** Ids per read request (the read path's maximum). */
  maxIds: number;
  /** Read requests started together each round. */
  parallel: number;
  /** Time from one round's start to the next's: reads never come faster than parallel / interval. */
  intervalMs: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Watches replicas without loading the service that holds them: a round of at most `parallel`
 * reads of at most `maxIds` tickets each, every `intervalMs`, whatever the number of tickets or
 * how far behind the replicas are. Tickets still behind go to the back of the line, so every
 * waiting ticket is read in turn.
 */
export class ReplicaWatch {
  /** Tickets not yet seen to match, oldest first (a Map keeps insertion order). */
  private readonly waiting = new Map<string, Watched>();
  /** Read requests made (each for up to maxIds tickets). */
  reads = 0;
  /** Tickets seen to match. */
  converged = 0;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly options: WatchOptions) {
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  add(ticket: Watched): void {
    this.waiting.set(ticket.expected.id, ticket);
  }

  get pending(): number {
    return this.waiting.size;
  }

  /** One round: reads the tickets at the front of the line, and settles those that match. */
  async round(): Promise<void> {
    const { maxIds, parallel } = this.options;
    const line = [...this.waiting.values()].slice(0, maxIds * parallel);
    const chunks = Array.from({ length: Math.ceil(line.length / maxIds) }, (_, i) => line.slice(i * maxIds, (i + 1) * maxIds));
    await Promise.all(chunks.map((chunk) => this.readChunk(chunk)));
  }

  /**
   * Rounds until every ticket matches, or `timeoutMs` after `writing()` first says false (tickets
   * may still be added until then).
   */
  async run(writing: () => boolean, timeoutMs: number): Promise<void> {
    let deadline = Infinity;
    for (;;) {
      const started = this.now();
      if (this.waiting.size > 0) await this.round();
      if (deadline === Infinity && !writing()) deadline = this.now() + timeoutMs;
      if (deadline !== Infinity && (this.waiting.size === 0 || this.now() >= deadline)) return;
      await this.sleep(Math.max(0, this.options.intervalMs - (this.now() - started)));
    }
  }

  private async readChunk(chunk: Watched[]): Promise<void> {
    this.reads++;
    const replicas = await this.options.read(chunk.map((t) => t.expected.id));
    const seenAt = this.now();
    const byId = new Map((replicas ?? []).map((r) => [r.id, r]));
    for (const ticket of chunk) {
      const replica = byId.get(ticket.expected.id);
      this.waiting.delete(ticket.expected.id);
      if (replica && sameReplica(replica, ticket.expected)) {
        ticket.lagMs = lagMs(ticket.updatedAt, replica.replicatedAt, seenAt);
        this.converged++;
      } else {
        this.waiting.set(ticket.expected.id, ticket); // to the back of the line
      }
    }
  }
}
