// A step a sync leaves owed to the host: work that must follow the sync but
// need not delay its report. Two kinds exist: the conntrack step of an
// incremental sync whose NAT maps changed (applyRole's conntrackAfter), and
// the deletion of the taps a node's own-instance sync released (nc-sync.ts).
//
// Once the sync is reported, the step runs as side work when no sync runs or
// waits (the coalescer's idle). A sync asked for first runs before it, and
// may run the step itself (`now`, its first step: a run-instance of the
// released tap's name waits for the deletion) or take it over (`drop`: a
// full apply does its own conntrack step). A step that fails is reported,
// and the next sync is a full one, started at once unless the failing step
// was the first step of that sync already.

export interface OwedStepHost {
  /** Runs `fn` when no sync runs or waits (Coalescer.idle). */
  idle(fn: () => Promise<void>): void;
  /** False once the agent is stopped: a step owed then is left. */
  live(): boolean;
  /** The step failed (`inSync`: it was a sync's first step). */
  failed(err: Error, inSync: boolean): void;
}

export class OwedStep {
  private due?: () => Promise<unknown>;

  constructor(private readonly host: OwedStepHost) {}

  /** True while a step is owed. */
  get pending(): boolean {
    return this.due !== undefined;
  }

  /** Owes `step` (replacing one still owed: the newer sync's covers it). */
  owe(step: () => Promise<unknown>): void {
    this.due = step;
  }

  /** Forgets the owed step: a sync took it over. */
  drop(): void {
    this.due = undefined;
  }

  /** Asks for the owed step as side work; called when a sync has ended (asked for while it ran, the idle callback would not run at all). */
  afterSync(): void {
    if (this.due) setImmediate(() => this.host.idle(() => this.now(false)));
  }

  /** Runs the owed step now, if one still is (a sync's first step, or the side work). */
  async now(inSync: boolean): Promise<void> {
    const step = this.due;
    if (!step || !this.host.live()) return;
    this.due = undefined;
    try {
      await step();
    } catch (err) {
      this.host.failed(err instanceof Error ? err : new Error(String(err)), inSync);
    }
  }
}
