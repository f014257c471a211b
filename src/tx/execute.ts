// The one op executor: ops (and an optional nftables batch) put in commit
// order and sent phase by phase, each applied op journaled with its undo, and
// everything rolled back if one fails. Transaction.commit() runs it over a
// transaction's ops; the handle's one-op verbs (links.add, taps.create,
// sysctl.set...) run it over their one op (or one per tap), so that tap
// creation, aliasing and validation exist once.
import { TransactionError } from '../errors.js';
import type { Batch } from '../nft/batch.js';
import type { Session } from '../session.js';
import { CommitRun, type Item, type OpOf, type RunOptions } from './commit.js';
import type { AfterTaps } from './early.js';
import { FaultRequest } from './fault.js';
import { tapAttributes } from './inverse.js';
import { checked, describeOp, PHASES, phaseOf, validateOp, type Op, type Phase } from './ops.js';
import { orderLinkAdds } from './order.js';
import { nowMs } from '../util/phases.js';
import type { LinkChanges } from '../rtnl/link.js';

/**
 * Phases whose requests can share one exchange with the phases next to them:
 * link sets, address and route deletes and adds. Each applied op has an
 * inverse, and none needs the kernel read in between (neighbour changes read
 * the entries first, sysctls are files, link adds pick ifindexes, link
 * deletes cannot be undone).
 */
const JOINABLE = new Set<Phase>(['sets', 'unaddress', 'addresses', 'routes']);

/** `done` of `total` ops sent, the last phase being `phase`. */
export type ProgressFn = (done: number, total: number, phase: Phase) => void;

export interface CommitStats {
  ops: number;
  /** Rtnetlink requests sent (lookups included), nft messages in the batch. */
  rtnlRequests: number;
  nftMessages: number;
  ms: number;
}

export interface ExecuteOptions extends RunOptions {
  /** Called after each phase: for progress bars on long commits. */
  onProgress?: ProgressFn;
}

/**
 * A new tap's link attributes as the sets it gets: its marks (alias and
 * group) on their own, ahead of the rest, when the rest brings it up. Set on
 * a link that is up, either one makes the kernel announce a state change
 * (netdev_state_change: NETDEV_CHANGE to every notifier, an RTM_NEWLINK
 * built) that a link still down does not get. Measured with the C floor's
 * requests, N=1000: the RTM_NEWLINKs that enslave and bring up the taps took
 * 107 ms instead of 126 with their group and alias (docs/performance.md,
 * round 25).
 */
export function tapSets(attrs: LinkChanges): LinkChanges[] {
  if (attrs.up !== true || (attrs.alias === undefined && attrs.group === undefined)) return [attrs];
  const marks: LinkChanges = {};
  const rest: LinkChanges = {};
  for (const k of Object.keys(attrs) as Array<keyof LinkChanges>) {
    if (k === 'alias' || k === 'group') (marks as Record<string, unknown>)[k] = attrs[k];
    else (rest as Record<string, unknown>)[k] = attrs[k];
  }
  return [marks, rest];
}

/**
 * Ops grouped by phase, in the order they are sent. A tap with link
 * attributes becomes two or three steps: created in the taps phase, then
 * marked (first in the sets phase, while it is down: tapSets()), enslaved and
 * brought up with the other masters and ups in the sets phase; a link with an
 * alias gets it in the sets phase too (the kernel ignores IFLA_IFALIAS when it
 * creates a link).
 */
export function orderOps(ops: readonly Op[]): Item[] {
  const byPhase = {} as Record<Phase, Item[]>;
  for (const p of PHASES) byPhase[p] = [];
  const marks: Item[] = [];
  ops.forEach((op, index) => {
    byPhase[phaseOf(op)].push({ op, index });
    const attrs = op.op === 'tap.add' ? tapAttributes(op.spec) : undefined;
    if (attrs) {
      const ref = (op as OpOf<'tap.add'>).name;
      const sets = tapSets(attrs);
      if (sets.length > 1) marks.push({ op: { op: 'link.set', ref, changes: sets[0] }, index });
      byPhase.sets.push({ op: { op: 'link.set', ref, changes: sets[sets.length - 1] }, index });
    }
    if (op.op === 'link.add' && op.spec.alias !== undefined) {
      byPhase.sets.push({ op: { op: 'link.set', ref: op.spec.name, changes: { alias: op.spec.alias } }, index });
    }
  });
  if (marks.length) byPhase.sets = [...marks, ...byPhase.sets];
  const links = byPhase.links as Item<OpOf<'link.add'>>[];
  byPhase.links = orderLinkAdds(links.map((it) => ({ ...it, spec: it.op.spec })));
  // concat(), not flatMap(): V8's flat and flatMap take the generic path, about 100 times slower for a bring-up's hundreds of items.
  return ([] as Item[]).concat(...PHASES.map((p) => byPhase[p]));
}

/**
 * The non-empty phases joined into one exchange from phase number `p` on
 * (joinable ones, across empty ones, up to the nft batch), and the number of
 * the last phase that exchange covers.
 */
function joinedFrom(p: number, byPhase: Map<Phase, Item[]>, joinable: (p: Phase) => boolean): { phases: Phase[]; last: number } {
  const phases: Phase[] = [];
  for (; p < PHASES.length && PHASES[p] !== 'nft' && (joinable(PHASES[p]) || !byPhase.get(PHASES[p])?.length); p++) {
    if (byPhase.get(PHASES[p])?.length) phases.push(PHASES[p]);
  }
  return { phases, last: p - 1 };
}

/** What follows the taps: the link adds, when there are any, then a joined exchange, when that comes next. */
function afterTaps(byPhase: Map<Phase, Item[]>, joinable: (p: Phase) => boolean): AfterTaps {
  const nextAfter = (k: number) => PHASES.findIndex((p, j) => j > k && byPhase.get(p)?.length);
  const plan: AfterTaps = {};
  let p = nextAfter(0);
  if (PHASES[p] === 'links') {
    plan.links = byPhase.get('links') as Item<OpOf<'link.add'>>[];
    p = nextAfter(p);
  }
  if (p > 0 && joinable(PHASES[p])) plan.joined = joinedFrom(p, byPhase, joinable).phases.map((j) => byPhase.get(j) ?? []);
  return plan;
}

/**
 * Sends validated `ops` and `batch` (committed whole, after the routes). On a
 * failure, undoes what was applied, newest first, and throws a
 * TransactionError saying what failed and what the rollback did; with
 * `single`, the failing op's own error when the rollback was complete.
 */
export async function execute(s: Session, ops: readonly Op[], batch: Batch | undefined, opts: ExecuteOptions = {}): Promise<CommitStats> {
  const t0 = nowMs();
  const run = new CommitRun(s, opts);
  // The taps are asked for first: ordering the rest and encoding it then overlap with the kernel's work.
  const taps = CommitRun.tapsEarly(ops, opts) ? tapItems(ops) : [];
  if (taps.length) run.makeTapsFirst(taps);
  let tapsEarly: Promise<void> | undefined;
  let nftSent = false;
  try {
    const items = orderOps(ops);
    const byPhase = new Map<Phase, Item[]>(PHASES.map((p) => [p, []]));
    for (const it of items) byPhase.get(phaseOf(it.op))?.push(it);
    // A renamed link is looked up by its new name only after the rename: such sets go on their own.
    const renames = byPhase.get('sets')?.some((it) => it.op.op === 'link.set' && it.op.changes.name !== undefined);
    const joinable = (p: Phase) => JOINABLE.has(p) && !(renames && p === 'sets');
    // The taps (made alongside the links' read, when they come first) are started,
    // and the nftables batch is encoded while they or the first reads wait for the kernel.
    const prepared = run.prepare(items);
    tapsEarly = run.startTaps(taps);
    tapsEarly?.catch(() => undefined);
    // So are the link adds and the joined exchange that follow the taps (CommitRun.planAfterTaps).
    if (tapsEarly) run.planAfterTaps(afterTaps(byPhase, joinable));
    run.encodeNft(batch);
    await prepared;
    const total = ops.length + (batch?.length ?? 0);
    let done = 0;
    const progress = (n: number, phase: Phase) => opts.onProgress?.(Math.min((done += n), total), total, phase);
    for (let p = 0; p < PHASES.length; p++) {
      const phase = PHASES[p];
      const these = byPhase.get(phase) ?? [];
      if (phase === 'taps' && tapsEarly) {
        const t = tapsEarly;
        tapsEarly = undefined;
        await t;
        progress(these.length, phase);
      } else if (phase === 'nft') {
        await run.settleTaps();
        if (!batch?.length || nftSent) continue;
        await run.nft(batch);
        progress(batch.length, phase);
      } else if (joinable(phase) && these.length) {
        // This phase and the joinable ones after it, across empty phases, in one exchange.
        const { phases: joined, last } = joinedFrom(p, byPhase, joinable);
        p = last;
        // When the nftables batch comes next, it is sent as soon as this exchange is answered without a refusal.
        const nftNext = !!batch?.length && PHASES.slice(last + 1, PHASES.indexOf('nft')).every((q) => !byPhase.get(q)?.length);
        nftSent = await run.joined(
          joined.map((j) => byPhase.get(j) ?? []),
          nftNext ? () => run.nft(batch) : undefined,
        );
        for (const j of joined) progress(byPhase.get(j)?.length ?? 0, j);
        if (nftSent && batch) progress(batch.length, 'nft');
      } else if (these.length) {
        await run.phase(phase, these);
        progress(these.length, phase);
      }
    }
    await run.settleTaps();
  } catch (err) {
    const e = err as Error & { opIndex?: number };
    // Taps still being made are journaled as they land: the rollback waits for them.
    await tapsEarly?.catch(() => undefined);
    await run.tapsLanded();
    const report = await run.journal.rollback(s.rtnl, (step) =>
      step.kind === 'request' && step.opIndex === opts.failUndoOp ? new FaultRequest(step.req) : undefined,
    );
    if (run.nftCommitted) report.leftBehind.push(`the nftables batch (${run.stats.nftMessages} ops), committed before the failure`);
    const clean = !report.leftBehind.length && !report.unknown.length;
    if (opts.single && clean) throw e;
    throw new TransactionError(e, e.opIndex, report);
  } finally {
    run.ctx.release();
  }
  return { ...run.stats, ms: nowMs() - t0 };
}

/** The tap.add ops of `ops` with their indexes, in order: the taps phase of orderOps(). */
function tapItems(ops: readonly Op[]): Item<OpOf<'tap.add'>>[] {
  const out: Item<OpOf<'tap.add'>>[] = [];
  ops.forEach((op, index) => {
    if (op.op === 'tap.add') out.push({ op, index });
  });
  return out;
}

/**
 * The handle's verbs: `ops` (one, or one per tap of a taps.create) validated
 * (a ValidationError names `what` and the field), then executed on their own.
 */
export async function executeOne(s: Session, ops: Op[], what = describeOp(ops[0])): Promise<void> {
  checked(what, () => ops.forEach(validateOp));
  await execute(s, ops, undefined, { single: true });
}
