// The agent's warm-up (issue 16): after the start sync, the path of a new
// version (the source's own warm-up, the store read, the incremental apply)
// run on the version in hand, twice, so that the first operation does not
// pay for compiling it (at 5000 instances its sync took 50-60 ms more CPU
// than the ones after it); then each kind of change an operation makes (a
// rule, an instance, a public address: rehearse.ts) planned incrementally as
// far as the commit and stopped there (applyRole's `rehearse`), each several
// times (REHEARSALS), until V8 has optimised its path (a node's own
// run-instance, and the CC's run-instance and rule: the paths their syncs
// take, nc-sync.ts, cc-sync.ts and cc-rules-sync.ts, as far as the commit);
// then, on a node, the versions that are other hosts' business (rehearse.ts
// unconcernedOf: a rule, another node's instance) judged as its sync judges
// them. Nothing is sent or written, no sync is reported. A sync requested
// meanwhile waits at most for the step in progress and stops it, as a new
// version does; the warm-up is then tried again after the next good sync, a
// few times at most.
import { applyRole, type AppliedSnapshot, type ApplyOptions } from '../managed/apply.js';
import type { Role } from '../managed/roles/index.js';
import type { AllocatedState } from '../managed/types.js';
import { syncCcRules } from './cc-rules-sync.js';
import { syncCcInstances } from './cc-sync.js';
import { syncNcInstances } from './nc-sync.js';
import { planMayChange, versionChange } from './relevance.js';
import { rehearsalsOf, unconcernedOf } from './rehearse.js';
import type { Applied, StateSource } from './types.js';

/** How many times the warm-up is started when syncs keep stopping it. */
const WARM_UP_TRIES = 3;
/**
 * How many times each kind of change is rehearsed. V8 optimises a function
 * (TurboFan) only after enough calls and loop turns: after two rehearsals
 * the first real run-instance at 5000 instances still paid for those
 * compilations and the deoptimisations of code optimised on too little
 * feedback (CPU of its sync, first / second run-instance, CC 57-60 / 15-25
 * ms, NC 46-64 / 24-45); after four to six, 23-28 and 20-27 for the first.
 */
export const REHEARSALS = 5;
/**
 * How many times a node judges each version that is other hosts' business.
 * Judging one is cheap (about a millisecond at 5000 instances), but the
 * functions it runs are small ones called once or a few times per version,
 * which V8 optimises only after many calls: with 5 judgements, the first 10
 * to 30 operations of a fleet of 30 agents still met waves of TurboFan
 * compilations, every agent compiling the same functions at once.
 */
export const JUDGEMENTS = 20;
/**
 * Up to this many judgements more, a random number per agent. Every agent
 * of a fleet hears every version and runs the same code on the same data, so
 * V8 finds the same functions hot at the same version in all of them: the
 * ones the judgements did not get optimised were compiled by 30 agents in
 * one operation (a fleet traced with --trace-opt: 34 to 60 TurboFan
 * compilations in each of the slowest operations, `sameSettings` in 58
 * agents' one revoke; the other operations, 0 to 4), 230 to 330 ms of CPU on
 * 2 cores while the statuses waited. With a count drawn per agent, the
 * functions the judgements run reach V8's thresholds at different versions
 * in different agents. (V8's threads can also run at a lower priority than
 * the agent's: sys/helper-threads.ts.) Larger, with the store's read warmed on the same
 * turns, 30 agents' warm-ups took 13 to 29 s and ran into the benchmark's
 * first operations.
 */
export const JUDGEMENT_JITTER = 20;

/** The judgements of one agent's warm-up: JUDGEMENTS and up to JUDGEMENT_JITTER - 1 more, at random. */
export function judgementsFor(random: () => number = Math.random): number {
  return JUDGEMENTS + Math.min(JUDGEMENT_JITTER - 1, Math.floor(random() * JUDGEMENT_JITTER));
}

/** What the warm-up needs of its agent. */
export interface WarmUpHost {
  readonly role: Role;
  readonly source: StateSource;
  /** The version the last good sync applied, and the snapshot it left (undefined before one). */
  applied(): Applied | undefined;
  snapshot(): AppliedSnapshot | undefined;
  /** applyRole's options for an incremental plan from `previous`. */
  options(previous: AppliedSnapshot): ApplyOptions;
  /** True when the warm-up must stop: the agent stopped, a new version is there or a sync waits. */
  interrupted(): boolean;
  /** Runs `fn` when no sync runs or waits (the coalescer's idle). */
  whenIdle(fn: () => Promise<void>): void;
  /** Said at each end, done or stopped. */
  ended(e: { done: boolean; ms: number; rehearsed: string[]; judged: string[] }): void;
}

export class WarmUp {
  /** The kinds of change rehearsed, in order (for tests). */
  readonly rehearsed: string[] = [];
  /** The kinds of version judged only (a node's: other hosts' business, unconcernedOf), in order (for tests). */
  readonly judged: string[] = [];
  /** Yet to run: the start went well, and a sync stopped it or it has not had its turn. */
  private due = false;
  private tries = 0;

  constructor(private readonly host: WarmUpHost) {}

  /**
   * After the start sync: due when it went well (`ok`); started when nothing
   * else runs, after `after` resolves if given (on etcd, the first sync's
   * status put, which the warm-up's CPU would hold back).
   */
  arm(ok: boolean, after?: () => Promise<unknown>): void {
    this.due = ok;
    if (!ok) return;
    if (after) {
      const go = () => this.soon();
      void after().then(go, go);
    } else this.soon();
  }

  /** After a good sync: the warm-up, if still due. */
  afterSync(): void {
    if (this.due) setImmediate(() => this.soon());
  }

  private soon(): void {
    if (!this.due || this.host.interrupted()) return;
    this.host.whenIdle(async () => {
      this.due = false;
      const t0 = performance.now();
      const done = await this.run();
      if (!done && ++this.tries < WARM_UP_TRIES) this.due = true;
      this.host.ended({ done, ms: Math.round(performance.now() - t0), rehearsed: [...this.rehearsed], judged: [...this.judged] });
    });
  }

  /** The new-version path twice on the version in hand, then the rehearsals and the judgements; true when it ran to its end. */
  private async run(): Promise<boolean> {
    const h = this.host;
    for (let i = 0; i < 2; i++) {
      h.source.warmUp?.();
      const previous = h.snapshot();
      const applied = h.applied();
      if (!previous || !applied || h.interrupted()) return false;
      const read = await h.source.read(applied);
      if (read.version !== applied.version || h.interrupted()) return false;
      await applyRole(applied.state, h.role, h.options(previous));
    }
    return (await this.rehearse()) && (await this.judge());
  }

  /**
   * A node's versions that are other hosts' business (unconcernedOf), and
   * its own run-instance (`own-run-instance`: the verdict its sync starts
   * with, relevance.ts ownDiff, before the path rehearsed above), each judged
   * as the sync judges it (versionChange), and taken back (a terminate),
   * judgementsFor() times: pure, nothing planned. (The own run-instance rehearsed
   * five times alone left that verdict's walks of the instances to be
   * optimised by V8 during a fleet's third run-instance: 25 to 42 ms of CPU
   * in that sync, against 4 to 10 in the others.) A turn of the event loop
   * between variants, so that a version coming in meanwhile waits for one
   * judgement at most.
   */
  private async judge(): Promise<boolean> {
    const h = this.host;
    const applied = h.applied();
    if (!applied) return false;
    for (let i = 0, n = judgementsFor(); i < n; i++)
      // Made again each time: what is memoised per list (the groups a node carries: roles/flood.ts carriedBy) is then walked each time, as each real version makes it walk.
      for (const v of [...unconcernedOf(applied.state, h.role), ...ownRunOf(applied.state, h.role)]) {
        await new Promise<void>((r) => setImmediate(r));
        if (h.interrupted() || h.applied() !== applied) return false;
        versionChange(applied.state, v.state, h.role);
        versionChange(v.state, applied.state, h.role);
        this.judged.push(v.kind);
      }
    return true;
  }

  /** Each kind of change planned on the state in hand as far as the commit, REHEARSALS times (nothing sent or written). */
  private async rehearse(): Promise<boolean> {
    const h = this.host;
    const previous = h.snapshot();
    const applied = h.applied();
    if (!previous || !applied) return false;
    const variants = rehearsalsOf(applied.state, h.role);
    for (let i = 0; i < REHEARSALS; i++)
      for (const v of variants) {
        if (h.interrupted() || h.snapshot() !== previous) return false;
        if (!planMayChange(applied.state, v.state, h.role)) continue;
        const opts = h.options(previous);
        if (!(await rehearseQuick(applied.state, v.state, h.role, previous, opts))) await applyRole(v.state, h.role, { ...opts, rehearse: true });
        this.rehearsed.push(v.kind);
      }
    return true;
  }
}

/** A node's own run-instance (rehearsalsOf's), to be judged; none for the CC. */
function ownRunOf(s: AllocatedState, role: Role): Array<{ kind: 'own-run-instance'; state: AllocatedState }> {
  if (role.role === 'cc') return [];
  const run = rehearsalsOf(s, role).find((v) => v.kind === 'run-instance');
  return run ? [{ kind: 'own-run-instance', state: run.state }] : [];
}

/**
 * An instance-only or rules-only version rehearsed on the path its sync
 * takes, as far as the commit: a node's own instances (nc-sync.ts), the CC's
 * instances (cc-sync.ts) or rules (cc-rules-sync.ts); false when that path is
 * not the one (the full plan is then rehearsed).
 */
async function rehearseQuick(prev: AllocatedState, next: AllocatedState, role: Role, previous: AppliedSnapshot, opts: ApplyOptions): Promise<boolean> {
  if (!opts.handle) return false;
  const v = versionChange(prev, next, role);
  if (v.kind === 'own' && role.role === 'nc') return (await syncNcInstances(opts.handle, previous, prev, next, role.node, v.instances, true)) !== undefined;
  if (v.kind === 'rules' && role.role === 'cc') return (await syncCcRules(opts.handle, previous, next, v.groups, true)) !== undefined;
  if (v.kind !== 'instances' || role.role !== 'cc') return false;
  const where = { ...(opts.netns !== undefined ? { netns: opts.netns } : {}), ...(opts.dhcpOptions ? { dhcpOptions: opts.dhcpOptions } : {}) };
  return (await syncCcInstances(opts.handle, previous, prev, next, role.cluster, v.instances, { ...where, rehearse: true })) !== undefined;
}
