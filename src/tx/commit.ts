// One commit in progress: the phases of a transaction sent to the kernel,
// each applied op journaled with its inverse (see transaction.ts for the order
// and for what is and is not atomic).
import { atOp, ExchangeError, NetlinkError } from '../errors.js';
import type { EncodedRun, EncodedSteps, Reply, Request } from '../netlink/socket.js';
import type { Batch, EncodedBatch } from '../nft/batch.js';
import { LinkAddRequest, LinkDeleteRequest, LinkGetRequest } from '../rtnl/link.js';
import { readSysctl, writeSysctl } from '../sys/sysctl.js';
import { CommitContext } from './context.js';
import { requestFor } from './requests.js';
import { buildEarly, samePhases, type AfterTaps, type EarlyJoined, type EarlyLinks } from './early.js';
import { FaultRequest, InjectedFault } from './fault.js';
import { inverseOf, undoOf } from './inverse.js';
import { isNeighOp, NeighBefore, neighInverse } from './neigh-ops.js';
import { deferredStep, Journal, type UndoStep } from './journal.js';
import { describeOp, opNetns, phaseOf, refsOf, type Op, type Phase } from './ops.js';
import type { Netns } from '../sys/netns-path.js';
import { orderLinkAdds } from './order.js';
import { settleUnknown } from './unknown.js';
import { createTaps } from './taps.js';
import type { Session } from '../session.js';

export interface Item<O extends Op = Op> {
  op: O;
  index: number;
}

export type OpOf<N extends Op['op']> = Extract<Op, { op: N }>;

/** How the executor runs: a transaction's commit, or one op of the handle's verbs. */
export interface RunOptions {
  /** Test hook: the op at this index is sent malformed, so the kernel refuses it. */
  failOp?: number;
  /** Test hook: the undo step of the op at this index is sent malformed too. */
  failUndoOp?: number;
  /** nftables ruleset generation the plan was read at: a batch that loses a race fails with ERESTART. */
  genid?: number;
  /**
   * One op on its own (the handle's verbs): no link snapshot (the links it
   * names are looked up, and kept as they were for the undo), the kernel
   * picks a new link's ifindex, and errors are the kernel's own, not
   * re-numbered as op #i of a transaction.
   */
  single?: boolean;
  /**
   * A transaction of a few ops among many links (an incremental reconcile):
   * the links it names are looked up (with their pre-images, for the undo)
   * before anything is sent, the ones in `ifindexes` excepted, and neighbour
   * and FDB ops get no pre-image. Without it a commit that adds no link looks
   * up only the links it changes, alongside its taps, and resolves the ones
   * it only names with no message (CommitContext.read()). Ignored when it adds links
   * (link.add), whose ifindexes are picked from a dump of every link.
   */
  lookup?: boolean;
  /**
   * With `lookup`: links the caller already knows, name -> ifindex (from an
   * earlier commit, and kept valid by the caller's own link events): not
   * looked up again. A commit of FDB ops alone on known links sends no lookup.
   */
  ifindexes?: ReadonlyMap<string, number>;
}

/** The state of one commit in progress. */
export class CommitRun {
  readonly ctx: CommitContext;
  readonly journal = new Journal();
  readonly stats = { ops: 0, rtnlRequests: 0, nftMessages: 0 };
  nftCommitted = false;
  /** New taps that go into a bridge, to be asked for before they are enslaved (createTaps). */
  private readonly settle: number[] = [];
  /** The links' read (CommitContext.read(): a snapshot or lookups), when it runs alongside the taps phase (prepare()). */
  private snapshotting?: Promise<void>;
  /** The taps' addon call, started before anything else of the commit (makeTapsFirst()). */
  private tapsMade?: ReturnType<typeof createTaps>;
  /** The nftables batch, encoded while an earlier phase waited for the kernel (encodeNft()). */
  private nftEncoded?: EncodedBatch;
  /** What follows the taps, to be built while they are made (planAfterTaps()). */
  private afterTaps?: AfterTaps;
  /** The link adds after the taps, built while they were being made (early.ts). */
  private earlyLinks?: EarlyLinks;
  /** The joined exchange after the taps (and link adds), built while they were being made. */
  private earlyJoined?: EarlyJoined;

  constructor(
    private readonly session: Session,
    private readonly opts: RunOptions,
  ) {
    this.ctx = new CommitContext(session.rtnl);
  }

  async prepare(items: Item[]): Promise<void> {
    this.stats.ops = items.length;
    if (this.opts.single) {
      const op = items[0] ? describeOp(items[0].op) : 'lookup';
      this.stats.rtnlRequests += await this.ctx.learn(refsOf(items), op, true);
    } else if (this.opts.lookup && !items.some((it) => it.op.op === 'link.add')) {
      for (const [name, index] of this.opts.ifindexes ?? []) this.ctx.record(name, index);
      const refs = refsOf(items);
      // Pre-images undo link changes; neighbour and FDB ops need only the ifindex (NeighBefore keeps their own).
      this.stats.rtnlRequests += await this.ctx.learn(refs, 'lookup', !items.every((it) => isNeighOp(it.op)));
    } else if (items.some((it) => it.op.op !== 'sysctl' && it.op.op !== 'link.deleteGroup')) {
      const read = this.ctx.read(items).then((n) => {
        this.stats.rtnlRequests += n;
      });
      // The taps phase (first when there is one) needs no link looked up: the
      // links are read on another worker thread while the taps are made
      // (taps() waits for both), instead of a round trip of its own before them.
      if (items[0].op.op === 'tap.add') {
        this.snapshotting = read;
        // Awaited by taps(); a commit that fails before then must not leave it unhandled.
        this.snapshotting.catch(() => undefined);
      } else await read;
    }
    const netns: Netns[] = [];
    for (let i = 0; i < items.length; i++) {
      const op = items[i].op;
      if (op.op === 'link.add' || op.op === 'link.set') netns.push(...opNetns(op));
    }
    this.ctx.openNetns(netns);
  }

  /**
   * Whether the taps of `ops` are made alongside the links' read (see
   * prepare()): there are some, and the commit neither is one op on its own
   * nor looks links up one by one (which happens before anything is made).
   */
  static tapsEarly(ops: readonly Op[], opts: RunOptions): boolean {
    if (opts.single || !ops.some((op) => op.op === 'tap.add')) return false;
    return !opts.lookup || ops.some((op) => op.op === 'link.add');
  }

  /**
   * Starts the addon making `taps` (when tapsEarly()), before the commit
   * orders its ops or reads the links: on a large commit those took
   * milliseconds in which the kernel had nothing to do. The taps phase
   * (startTaps()) then picks the call up.
   */
  makeTapsFirst(taps: Item<OpOf<'tap.add'>>[]): void {
    this.tapsMade = createTaps(this.session, this.ctx, this.journal, taps);
    // Awaited by taps(); a commit that fails before then must not leave it unhandled.
    this.tapsMade.catch(() => undefined);
  }

  /** Waits for a makeTapsFirst() call no taps phase took up (a commit that failed before it): its taps are journaled then. */
  async tapsLanded(): Promise<void> {
    await this.tapsMade?.catch(() => undefined);
  }

  /**
   * The taps phase started right after prepare(), when the taps come first
   * and run alongside the links' read (prepare() started it without waiting):
   * the addon makes them while the JavaScript thread encodes the rest.
   * Undefined when the taps must wait for prepare() (one op, lookups).
   */
  startTaps(taps: Item<OpOf<'tap.add'>>[]): Promise<void> | undefined {
    if (!this.snapshotting) return undefined;
    return taps.length ? this.taps(taps) : undefined;
  }

  private wrap(req: Request, index: number): Request {
    return index === this.opts.failOp ? new FaultRequest(req) : req;
  }

  /**
   * Sends requests pipelined and journals, for each, what undoes it: the
   * inverse of each one applied; the pre-image of each one refused, since the
   * kernel may have applied part of it (RTM_SETLINK applies a link's flags
   * before its master, and keeps them if the master change fails); and, if the
   * exchange failed part-way, whatever the kernel's present state says about
   * the requests whose answers were lost. Throws the first failure.
   */
  private async send(reqs: Request[], items: Item[], inverse: InverseFn, index?: (i: number) => number | undefined, encoded?: EncodedRun): Promise<void> {
    let replies: Reply[];
    let lost: ExchangeError | undefined;
    try {
      replies = await this.session.rtnl.run(reqs, undefined, encoded);
    } catch (err) {
      if (!(err instanceof ExchangeError)) throw err;
      lost = err;
      replies = (err as ExchangeError<Reply>).replies;
    }
    await this.absorb(reqs, items, inverse, replies, lost, index);
  }

  /** Journals the answers to one send (see send()); throws its first failure. */
  private async absorb(
    reqs: Request[],
    items: Item[],
    inverse: InverseFn,
    replies: Reply[],
    lost: ExchangeError | undefined,
    index?: (i: number) => number | undefined,
  ): Promise<void> {
    this.stats.rtnlRequests += reqs.length;
    const skip = new Set([...(lost?.unknown ?? []), ...(lost?.unsent ?? [])]);
    let first: NetlinkError | undefined;
    replies.forEach((rep, i) => {
      if (skip.has(i)) return;
      const it = items[i];
      if (rep.error) {
        first ??= this.opts.single ? rep.error : atOp(rep.error, it.index);
        const restore = it.op.op === 'link.set' ? inverseOf(it.op, this.ctx) : undefined;
        if (restore) this.journal.push({ kind: 'request', req: restore, undoes: `${reqs[i].describe()} (refused, maybe in part)`, opIndex: it.index });
        return;
      }
      // The undo and its description are made only if a rollback reads them (deferredStep).
      const inv = inverse(it, i);
      if (typeof inv === 'function') this.journal.push(deferredStep(inv, reqs[i], it.index));
      else if (inv) this.journal.push(deferredStep(() => inv, reqs[i], it.index));
      else if (inv === null) this.journal.push({ kind: 'irreversible', undoes: reqs[i].describe(), opIndex: it.index });
    });
    if (!lost) {
      if (first) throw first;
      return;
    }
    const unsettled = lost.unknown.map((i) => ({ it: items[i], req: reqs[i], ...(index ? { index: index(i) } : {}) }));
    for (const step of await settleUnknown(this.session, this.ctx, unsettled, lost.code, (op) => inverseOf(op, this.ctx))) this.journal.push(step);
    const at = lost.unknown[0] ?? lost.unsent[0];
    throw Object.assign(lost, { opIndex: at !== undefined ? items[at].index : undefined });
  }

  private async learn(items: Item[]): Promise<void> {
    const before = this.ctx;
    const refs = refsOf(items).filter((r) => !before.knows(r));
    if (refs.length) {
      await this.ctx.learn(refs, `${items[0].op.op} (looking up links)`);
      this.stats.rtnlRequests += new Set(refs).size;
    }
  }

  async phase(phase: Phase, items: Item[]): Promise<void> {
    switch (phase) {
      case 'taps':
        return this.taps(items as Item<OpOf<'tap.add'>>[]);
      case 'links':
        return this.links(items as Item<OpOf<'link.add'>>[]);
      case 'sysctls':
        return this.sysctls(items as Item<OpOf<'sysctl'>>[]);
      default:
        return this.simple(items);
    }
  }

  /**
   * What follows the taps (execute()): the link adds, and the joined exchange
   * after them. They are then built and encoded as soon as the links' read is
   * in, on the JavaScript thread while the addon is still making the taps,
   * rather than after them (src/tx/early.ts).
   */
  planAfterTaps(plan: AfterTaps): void {
    this.afterTaps = plan;
  }

  private async taps(items: Item<OpOf<'tap.add'>>[]): Promise<void> {
    const snapshot = this.snapshotting;
    this.snapshotting = undefined;
    // The joined exchange after the taps is built once the links are read, while the taps are still being made.
    const snapped = snapshot?.then(() => {
      const plan = this.afterTaps;
      this.afterTaps = undefined;
      if (plan) ({ links: this.earlyLinks, joined: this.earlyJoined } = buildEarly(this.session, this.ctx, plan, items, (req, i) => this.wrap(req, i)));
    });
    const making = this.tapsMade ?? createTaps(this.session, this.ctx, this.journal, items);
    this.tapsMade = undefined;
    const [snap, made] = await Promise.allSettled([snapped, making]);
    if (made.status === 'rejected') throw made.reason;
    const { requests, settle } = made.value;
    if (snapshot) await this.afterSnapshot(snap, items);
    this.stats.rtnlRequests += requests;
    this.settle.push(...settle);
    const injected = items.find((it) => it.index === this.opts.failOp);
    if (injected) throw Object.assign(new InjectedFault(`tap add ${injected.op.name}`), { opIndex: injected.index });
  }

  /**
   * The links' read that ran alongside the taps: the taps a snapshot may
   * have seen are this commit's own (IFF_TUN_EXCL refuses a name that
   * exists), so they get no pre-image; a dump the taps kept interrupting
   * (EINTR) is taken again.
   */
  private async afterSnapshot(snap: PromiseSettledResult<void>, items: Item<OpOf<'tap.add'>>[]): Promise<void> {
    if (snap.status === 'rejected') {
      if ((snap.reason as { code?: string })?.code !== 'EINTR') throw snap.reason;
      // The dump taken again is the one counted (a read that failed adds nothing to the stats).
      await this.ctx.snapshot();
      this.stats.rtnlRequests++;
    }
    for (const it of items) this.ctx.before.delete(it.op.name);
  }

  /** Encodes the nftables batch now, while a phase waits for the kernel; nft() then only sends it. */
  encodeNft(batch: Batch | undefined): void {
    if (!batch?.length || this.nftEncoded) return;
    try {
      this.nftEncoded = batch.encodeForCommit(this.opts.genid !== undefined ? { genid: this.opts.genid } : {});
    } catch {
      // Not expected (every op was validated as it was added); nft() encodes again and reports it.
    }
  }

  private async links(items: Item<OpOf<'link.add'>>[]): Promise<void> {
    const early = this.earlyLinks;
    this.earlyLinks = undefined;
    if (early?.items === items) {
      const { ordered, specs, reqs } = early;
      await this.send(
        reqs,
        ordered,
        (_it, i) => new LinkDeleteRequest(specs[i].index ?? specs[i].name),
        (i) => specs[i].index,
        early.encoded,
      );
      return;
    }
    const ordered = orderLinkAdds(items.map((it) => ({ ...it, spec: it.op.spec })));
    // One op alone lets the kernel pick the ifindex: no later request in its send names it.
    const specs = this.opts.single ? ordered.map((it) => it.spec) : ordered.map((it) => ({ ...it.spec, index: this.ctx.assign(it.spec.name, it.spec.index) }));
    await this.learn(ordered);
    const reqs = specs.map((spec, i) => this.wrap(new LinkAddRequest(spec, this.ctx.resolver), ordered[i].index));
    await this.send(
      reqs,
      ordered,
      (_it, i) => new LinkDeleteRequest(specs[i].index ?? specs[i].name),
      (i) => specs[i].index,
    );
  }

  private async sysctls(items: Item<OpOf<'sysctl'>>[]): Promise<void> {
    const ns = this.session.netns;
    for (const it of items) {
      const { key, value } = it.op;
      if (it.index === this.opts.failOp) throw Object.assign(new InjectedFault(`sysctl ${key}`), { opIndex: it.index });
      let old: string;
      try {
        old = readSysctl(ns, key);
        writeSysctl(ns, key, value);
      } catch (err) {
        throw Object.assign(err as Error, { opIndex: it.index });
      }
      const step: UndoStep = { kind: 'sysctl', netns: ns, key, value: old, undoes: `sysctl ${key}=${value}`, opIndex: it.index };
      this.journal.push(step);
    }
  }

  /** The nftables batch: the kernel applies it whole or not at all, so it journals nothing. */
  async nft(batch: Batch): Promise<void> {
    try {
      await batch.commit(this.opts.genid !== undefined ? { genid: this.opts.genid } : {}, this.nftEncoded);
    } catch (err) {
      await this.nftLost(batch, err as Error & { chunksSent?: number; code?: string });
      throw err;
    }
    this.stats.nftMessages += batch.length;
    this.nftCommitted = true;
  }

  /**
   * The batch reached the kernel but its answer was lost: it was applied whole
   * or not at all. Unchanged generation since the plan's read means not
   * applied; otherwise nobody can tell, and the rollback says so.
   */
  private async nftLost(batch: Batch, err: Error & { chunksSent?: number; code?: string }): Promise<void> {
    if (!err.chunksSent) return;
    const genid = this.opts.genid;
    if (genid !== undefined && (await this.session.nft.generation().catch(() => undefined)) === genid) return;
    const what = `the nftables batch (${batch.length} ops): outcome unknown (its answer was lost: ${err.code}); the kernel applied it whole or not at all`;
    this.journal.push({ kind: 'unknown', what, opIndex: -1 });
  }

  /**
   * Sets, address, route, neighbour and FDB changes, and deletes: one
   * pipelined send per phase. Neighbour and FDB replaces and deletes read the
   * entries they change first, so that their undo puts them back as they were.
   */
  private async simple(items: Item[]): Promise<void> {
    await this.settleTaps();
    await this.learn(items);
    const r = this.ctx.resolver;
    const ops = items.map((it) => it.op);
    const before = ops.some(isNeighOp) ? await NeighBefore.read(this.session, ops) : undefined;
    const reqs = items.map((it) => this.wrap(requestFor(it.op, r), it.index));
    const irreversible = phaseOf(items[0].op) === 'deletes';
    await this.send(reqs, items, (it) => (irreversible ? null : isNeighOp(it.op) ? neighInverse(it.op, r, before) : undoOf(it.op, this.ctx)));
  }

  /** The lookups of new taps (createTaps), on their own: when no joined phases follow to carry them. */
  async settleTaps(): Promise<void> {
    if (!this.settle.length) return;
    const reqs = this.settle.splice(0).map((i) => new LinkGetRequest(i));
    this.stats.rtnlRequests += reqs.length;
    const failed = (await this.session.rtnl.run(reqs)).find((r) => r.error)?.error;
    if (failed) throw failed;
  }

  /**
   * The steps of a joined exchange (the new taps' lookups first, when there
   * are any): the ones built ahead for these phases (early.ts), or made now.
   */
  private async joinedRequests(phases: Item[][]): Promise<{ all: Request[][]; lookups: number; encoded?: EncodedSteps }> {
    const early = this.earlyJoined;
    this.earlyJoined = undefined;
    if (early && samePhases(early.phases, phases)) {
      // Its lookups name the same taps as `settle`, by name.
      this.settle.length = 0;
      return early;
    }
    await this.learn(([] as Item[]).concat(...phases));
    const r = this.ctx.resolver;
    const steps = phases.map((items) => items.map((it) => this.wrap(requestFor(it.op, r), it.index)));
    const lookups = this.settle.splice(0).map((i): Request => new LinkGetRequest(i));
    return { all: lookups.length ? [lookups, ...steps] : steps, lookups: lookups.length };
  }

  /**
   * Consecutive phases of sets, address and route changes (JOINABLE) in one
   * exchange, after the new taps' lookups: one hop to the worker thread
   * instead of one per phase. The kernel applies them in order, and the
   * exchange stops after the first phase with a refusal, so what is sent and
   * journaled is what phase-by-phase sends would have sent and journaled.
   * When the kernel refused nothing, `next` (what comes after: the nftables
   * batch) is started before this exchange's answers are journaled, and
   * awaited after: true then, as it has run.
   */
  async joined(phases: Item[][], next?: () => Promise<void>): Promise<boolean> {
    const { all, lookups, encoded } = await this.joinedRequests(phases);
    let replies: Reply[][];
    let sent = all.length;
    let lost: ExchangeError<Reply> | undefined;
    try {
      ({ replies, sent } = await this.session.rtnl.runSteps(all, encoded));
    } catch (err) {
      if (!(err instanceof ExchangeError)) throw err;
      lost = err as ExchangeError<Reply>;
      replies = splitReplies(lost.replies, all);
    }
    // Everything applied: the kernel takes what comes next while the journal is written.
    const ahead = !lost && next && sent === all.length && replies.every((step) => step.every((x) => !x.error)) ? next() : undefined;
    ahead?.catch(() => undefined);
    const inverse: InverseFn = (it) => undoOf(it.op, this.ctx);
    let first: Error | undefined;
    let at = 0;
    for (let k = 0; k < all.length && k < sent; k++) {
      const part = lost ? lostPart(lost, at, all[k].length) : undefined;
      at += all[k].length;
      try {
        if (k === 0 && lookups) {
          this.stats.rtnlRequests += lookups;
          if (part) throw part;
          const failed = replies[0].find((x) => x.error)?.error;
          if (failed) throw failed;
        } else await this.absorb(all[k], phases[k - (lookups ? 1 : 0)], inverse, replies[k], part);
      } catch (err) {
        first ??= err as Error;
      }
    }
    // (Not expected with `ahead` started: absorb() throws only what was refused or lost.)
    if (first) throw first;
    await ahead;
    return ahead !== undefined;
  }
}

/** An applied op's undo: a request, one made when a rollback needs it, none needed (undefined), or none possible (null). */
type InverseFn = (it: Item, i: number) => Request | (() => Request) | null | undefined;

/** The flat replies of a joined exchange, cut back into its steps. */
function splitReplies(flat: Reply[], steps: readonly (readonly Request[])[]): Reply[][] {
  let at = 0;
  return steps.map((s) => flat.slice((at += s.length) - s.length, at));
}

/** The part of a joined exchange's failure that falls in one step: undefined if all of it was answered. */
function lostPart(e: ExchangeError<Reply>, at: number, len: number): ExchangeError<Reply> | undefined {
  const inStep = (i: number) => i >= at && i < at + len;
  const unknown = e.unknown.filter(inStep).map((i) => i - at);
  const unsent = e.unsent.filter(inStep).map((i) => i - at);
  if (!unknown.length && !unsent.length) return undefined;
  return new ExchangeError(e.cause, e.replies.slice(at, at + len), unknown, unsent);
}
