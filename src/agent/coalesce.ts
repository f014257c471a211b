// At most one sync in flight and at most one pending: a request while a sync
// runs joins the pending one (its triggers are merged). And syncs start at
// least `minGapMs` apart: a request soon after a sync started waits for the
// gap, so a burst of a hundred changes in a second costs a few syncs even when
// each is quicker than the time between two changes. An isolated change, long
// after the last sync, runs at once. Pure scheduling, no I/O but a timer.
import type { SyncTrigger } from './types.js';

export class Coalescer<R> {
  private running?: Promise<R>;
  /** Work run between syncs (idle()): a request meanwhile waits for it as for a sync. */
  private side?: Promise<void>;
  private pending?: { triggers: SyncTrigger[]; promise: Promise<R> };
  private closed = false;
  private lastStart = -Infinity;

  /** Called (on the next turn of the event loop) when a sync or side work ended and nothing else runs or waits. */
  onIdle?: () => void;

  constructor(
    private readonly run: (triggers: SyncTrigger[]) => Promise<R>,
    private readonly minGapMs = 0,
  ) {}

  private get quiet(): boolean {
    return !this.closed && !this.running && !this.pending && !this.side;
  }

  private ended(): void {
    if (this.onIdle && this.quiet)
      setImmediate(() => {
        if (this.quiet) this.onIdle?.();
      });
  }

  /** True while a request waits for the running sync or side work to end. */
  get waiting(): boolean {
    return this.pending !== undefined;
  }

  /** True while a sync runs. */
  get busy(): boolean {
    return this.running !== undefined;
  }

  /** The sync that will cover `trigger`: a new one, or the pending one. */
  request(trigger: SyncTrigger): Promise<R> {
    if (this.closed) return Promise.reject(new Error('the agent is stopped'));
    // The pending one first: between the running sync's end and the pending
    // one's launch, `running` is briefly unset, and a request must still join.
    if (this.pending) {
      if (!this.pending.triggers.includes(trigger)) this.pending.triggers.push(trigger);
      return this.pending.promise;
    }
    const wait = this.lastStart + this.minGapMs - performance.now();
    if (!this.running && !this.side && wait <= 0) return this.launch([trigger]);
    const triggers = [trigger];
    const ended = (this.running ?? this.side ?? Promise.resolve()).then(
      () => undefined,
      () => undefined,
    );
    const after = ended.then(() => {
      const left = this.lastStart + this.minGapMs - performance.now();
      return left > 0 ? new Promise<void>((r) => setTimeout(r, left)) : undefined;
    });
    const promise = after.then(() => {
      this.pending = undefined;
      if (this.closed) throw new Error('the agent is stopped');
      return this.launch(triggers);
    });
    this.pending = { triggers, promise };
    return promise;
  }

  private launch(triggers: SyncTrigger[]): Promise<R> {
    this.lastStart = performance.now();
    const p = this.run(triggers);
    this.running = p;
    const done = () => {
      if (this.running === p) this.running = undefined;
      this.ended();
    };
    p.then(done, done);
    return p;
  }

  /**
   * Runs `fn` now if no sync runs or waits, else not at all (the sync does
   * the same work). Side work asked for while other side work runs (the
   * warm-up, the conntrack step of the sync before) runs after it, unless a
   * sync was asked for meanwhile: it is never dropped for that alone. A
   * request meanwhile waits for it as for a running sync; it does not count
   * as a sync's start for the gap. Its failure is ignored.
   */
  idle(fn: () => Promise<void>): void {
    if (this.closed || this.running || this.pending) return;
    const before = this.side;
    const p: Promise<void> = (before ? before.then(() => (this.closed || this.running || this.pending ? undefined : fn())) : fn())
      .catch(() => undefined)
      .finally(() => {
        if (this.side === p) this.side = undefined;
        this.ended();
      });
    this.side = p;
  }

  /** Refuses new requests; the pending one is dropped. Resolves when the running one (and side work) ends. */
  async close(): Promise<void> {
    this.closed = true;
    await this.side;
    const r = this.running;
    if (r)
      await r.then(
        () => undefined,
        () => undefined,
      );
  }
}
