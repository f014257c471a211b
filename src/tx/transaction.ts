// The transaction: typed ops collected and validated one by one, committed in
// dependency order with pipelined rtnetlink requests, one atomic nftables
// batch, and an undo journal that puts everything back if any op fails.
//
// Phases (ops.ts PHASES): taps -> links -> sets (masters, up, attributes) ->
// sysctls -> address/route deletes -> addresses -> routes -> nft -> link deletes.
//
// What is atomic and what is not: the nftables batch is applied by the kernel
// whole or not at all. Rtnetlink has no transactions, so each applied
// rtnetlink op records its inverse and a failure runs the inverses, newest
// first; a refused link change records its pre-image too, since RTM_SETLINK
// keeps the changes it applied before the one it refused; requests whose
// answers were lost are settled from the kernel's state or reported as
// unknown (commit.ts, unknown.ts). A crash (SIGKILL, power loss) in the middle of the rtnetlink phases
// leaves the ops applied so far in place; reconcile() on the next start
// converges from there. Link deletes run last because a deleted device cannot
// be recreated exactly; if one fails, the ops before it are rolled back, but the
// nftables batch, already committed, is reported as left behind.
import { performance } from 'node:perf_hooks';
import type { Handle, TapSpec } from '../handle.js';
import { Batch } from '../nft/batch.js';
import type { AddressSpec } from '../rtnl/address.js';
import type { LinkRef } from '../rtnl/kinds/index.js';
import type { LinkChanges, LinkSpec } from '../rtnl/link.js';
import type { RouteSpec } from '../rtnl/route.js';
import { CommitRun, type Item, type OpOf } from './commit.js';
import { TransactionError } from '../errors.js';
import { FaultRequest } from './fault.js';
import { tapAttributes } from './inverse.js';
import { PHASES, phaseOf, validateOp, type Op, type Phase } from './ops.js';
import { orderLinkAdds } from './order.js';
import { renderOps, type Rendered } from './render.js';

export interface CommitOptions {
  /** Test hook: the op at this index is sent malformed, so the kernel refuses it. */
  failOp?: number;
  /** Test hook: the undo step of the op at this index is sent malformed too. */
  failUndoOp?: number;
  /** nftables ruleset generation the plan was read at: a batch that loses a race fails with ERESTART. */
  genid?: number;
  /** Called after each phase: for progress bars on long commits. */
  onProgress?: ProgressFn;
}

/** `done` of `total` ops sent, the last phase being `phase`. */
export type ProgressFn = (done: number, total: number, phase: Phase) => void;

export interface CommitStats {
  ops: number;
  /** Rtnetlink requests sent (lookups included), nft messages in the batch. */
  rtnlRequests: number;
  nftMessages: number;
  ms: number;
}


export class Transaction {
  readonly ops: Op[] = [];
  private firstError?: { index: number; error: Error };
  private committed = false;
  private batch?: Batch;
  private nftProxy?: Batch;

  constructor(private readonly handle: Handle) {}

  /**
   * The transaction's nftables batch: tables, chains, rules, sets and
   * elements, committed as one atomic NFNL batch after the routes. Its methods
   * validate as they are called; a bad one is remembered like any other op
   * and fails the commit before anything is sent.
   */
  get nft(): Batch {
    if (this.nftProxy) return this.nftProxy;
    this.batch = new Batch(this.handle.nft.conn);
    this.nftProxy = new Proxy(this.batch, {
      get: (target, prop, receiver) => {
        const v = Reflect.get(target, prop, receiver);
        if (typeof v !== 'function') return v;
        return (...args: unknown[]) => {
          try {
            const out = v.apply(target, args);
            return out === target ? this.nftProxy : out;
          } catch (err) {
            if (!this.firstError) this.firstError = { index: this.ops.length, error: err as Error };
            return this.nftProxy;
          }
        };
      },
    });
    return this.nftProxy;
  }

  /** Adds an op; a malformed op is remembered and fails the commit before anything is sent. */
  add(op: Op): this {
    try {
      validateOp(op);
    } catch (err) {
      if (!this.firstError) this.firstError = { index: this.ops.length, error: err as Error };
    }
    this.ops.push(op);
    return this;
  }

  addLink(spec: LinkSpec): this {
    return this.add({ op: 'link.add', spec });
  }
  /** A persistent tap, plus link attributes (master, up, group, alias...) applied after it exists. */
  addTap(name: string, spec: TapSpec = {}): this {
    return this.add({ op: 'tap.add', name, spec });
  }
  setLink(ref: LinkRef, changes: LinkChanges): this {
    return this.add({ op: 'link.set', ref, changes });
  }
  deleteLink(ref: LinkRef): this {
    return this.add({ op: 'link.delete', ref });
  }
  deleteLinkGroup(group: number): this {
    return this.add({ op: 'link.deleteGroup', group });
  }
  addAddress(spec: AddressSpec): this {
    return this.add({ op: 'address.add', spec });
  }
  deleteAddress(spec: AddressSpec): this {
    return this.add({ op: 'address.delete', spec });
  }
  addRoute(spec: RouteSpec): this {
    return this.add({ op: 'route.add', spec });
  }
  deleteRoute(spec: RouteSpec): this {
    return this.add({ op: 'route.delete', spec });
  }
  setSysctl(key: string, value: string | number): this {
    return this.add({ op: 'sysctl', key, value: String(value) });
  }
  /** Ops in the transaction, nftables ops included. */
  get size(): number {
    return this.ops.length + (this.batch?.length ?? 0);
  }
  /** The first validation error, if any op was malformed. */
  get error(): Error | undefined {
    return this.firstError?.error;
  }

  /** The ops in commit order, as `ip`, `sysctl` and `nft` commands. */
  render(): Rendered {
    return renderOps(
      this.ordered().map((it) => it.op),
      this.batch?.length ? this.batch.render() : '',
    );
  }
  toString(): string {
    return this.render().text;
  }
  /** A stable machine form: the ops in commit order, and the nft batch as nft syntax. */
  toJSON(): { ops: Op[]; nft: string } {
    return { ops: this.ordered().map((it) => it.op), nft: this.batch?.length ? this.batch.render() : '' };
  }

  /**
   * Ops grouped by phase, in the order commit() sends them. A tap with link
   * attributes becomes two steps: created in the taps phase, then enslaved and
   * brought up with the other masters and ups in the sets phase; so does a
   * link with an alias.
   */
  private ordered(): Item[] {
    const byPhase = new Map<Phase, Item[]>(PHASES.map((p) => [p, []]));
    this.ops.forEach((op, index) => {
      byPhase.get(phaseOf(op))!.push({ op, index });
      const attrs = op.op === 'tap.add' ? tapAttributes(op.spec) : undefined;
      if (attrs) byPhase.get('sets')!.push({ op: { op: 'link.set', ref: (op as OpOf<'tap.add'>).name, changes: attrs }, index });
      // The kernel ignores IFLA_IFALIAS when it creates a link; it is set afterwards.
      if (op.op === 'link.add' && op.spec.alias !== undefined) {
        byPhase.get('sets')!.push({ op: { op: 'link.set', ref: op.spec.name, changes: { alias: op.spec.alias } }, index });
      }
    });
    const links = byPhase.get('links') as Item<OpOf<'link.add'>>[];
    byPhase.set('links', orderLinkAdds(links.map((it) => ({ ...it, spec: it.op.spec }))));
    return PHASES.flatMap((p) => byPhase.get(p)!);
  }

  async commit(opts: CommitOptions = {}): Promise<CommitStats> {
    if (this.committed) throw new Error('transaction already committed');
    if (this.firstError) {
      const { index, error } = this.firstError;
      error.message = `op #${index}: ${error.message} (nothing was sent)`;
      throw error;
    }
    this.committed = true;
    const t0 = performance.now();
    const run = new CommitRun(this.handle, opts);
    const items = this.ordered();
    try {
      await run.prepare(items);
      const total = this.size;
      let done = 0;
      for (const phase of PHASES) {
        if (phase === 'nft') {
          if (!this.batch?.length) continue;
          await run.nft(this.batch);
          done += this.batch.length;
        } else {
          const these = items.filter((it) => phaseOf(it.op) === phase);
          if (!these.length) continue;
          await run.phase(phase, these);
          done += these.length;
        }
        opts.onProgress?.(Math.min(done, total), total, phase);
      }
    } catch (err) {
      const e = err as Error & { opIndex?: number };
      const report = await run.journal.rollback(this.handle.rtnl, (s) =>
        s.kind === 'request' && s.opIndex === opts.failUndoOp ? new FaultRequest(s.req) : undefined,
      );
      if (run.nftCommitted) report.leftBehind.push(`the nftables batch (${run.stats.nftMessages} ops), committed before the failure`);
      throw new TransactionError(e, e.opIndex, report);
    } finally {
      run.ctx.release();
    }
    return { ...run.stats, ms: performance.now() - t0 };
  }
}
