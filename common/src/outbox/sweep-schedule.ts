import { outsideTraces } from '../tracing/messaging';

/**
 * The pause before the next idle sweep: the configured interval (default 15 s), or 50 times what
 * the last sweep took if that is longer, so that idle sweeps never take more than 2% of the time.
 * Why: a sweep reads the whole collection, which on a server without the right index (the FerretDB
 * stand-in) grows with the collection, even when there is nothing to publish.
 */
export function idleSweepDelay(lastSweepMs: number, intervalMs = 15_000): number {
  return Math.max(intervalMs, Math.round(lastSweepMs * 50));
}

/**
 * When the next sweep is due:
 * - `idle`: at the idle pace (`idleSweepDelay`), unless the last sweep found unknown events on a
 *   full page (there may be more);
 * - `soon`: after `sweepIntervalMs`, because a publication or a sweep failed since the last sweep
 *   started and what it left must be retried.
 */
export type SweepPace = 'idle' | 'soon';

export interface SweepTiming {
  sweepIntervalMs?: number;
  idleSweepIntervalMs?: number;
}

/**
 * Runs the relay's sweep on a timer while started: once at start (a previous process may have left
 * events), then at the pace the last sweep and the failures since call for.
 */
export class SweepSchedule {
  private state: 'stopped' | 'started' = 'stopped';
  private timer?: NodeJS.Timeout;
  /** The sweep this schedule is running, if any. */
  private sweeping?: Promise<number>;
  private pace: SweepPace = 'idle';

  /**
   * `sweep` resolves with how many records it found with events not known as published;
   * `morePages` says whether it stopped at a full page.
   */
  constructor(
    private readonly sweep: () => Promise<number>,
    private readonly morePages: () => boolean,
    private readonly timing: SweepTiming,
  ) {}

  start(): void {
    if (this.state === 'started') return;
    this.state = 'started';
    this.schedule(0);
  }

  /** Stops the timer and waits for the sweep it is running. */
  async stop(): Promise<void> {
    this.state = 'stopped';
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.sweeping;
  }

  /** A sweep starts: it looks at whatever was left behind so far. */
  sweepStarts(): void {
    this.pace = 'idle';
  }

  /** A sweep failed: the next one comes soon (its timer is set when this sweep ends). */
  sweepFailed(): void {
    this.pace = 'soon';
  }

  /** A publication failed: sweep again soon rather than at the idle pace. */
  publicationFailed(): void {
    this.pace = 'soon';
    // Outside the failed publication's trace: the sweep serves every record.
    if (this.state === 'started' && !this.sweeping) outsideTraces(() => this.schedule(this.timing.sweepIntervalMs ?? 1000))();
  }

  private schedule(delayMs: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(async () => {
      this.timer = undefined;
      const started = performance.now();
      this.sweeping = this.sweep();
      const unknown = await this.sweeping;
      this.sweeping = undefined;
      const took = performance.now() - started;
      if (this.state === 'stopped' || this.timer) return;
      // Events this relay knows as published (their removal is pending) are no reason to sweep
      // again soon: at saturation there are always hundreds, and each sweep reads the collection.
      // A failed publication is, and so are unknown events on a full page (there may be more).
      const soon = this.pace === 'soon' || (unknown > 0 && this.morePages());
      this.schedule(soon ? (this.timing.sweepIntervalMs ?? 1000) : idleSweepDelay(took, this.timing.idleSweepIntervalMs));
    }, delayMs);
    this.timer.unref();
  }
}
