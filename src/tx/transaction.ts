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
import { ValidationError } from '../errors.js';
import { Batch } from '../nft/batch.js';
import type { AddressSpec } from '../rtnl/address.js';
import type { LinkRef } from '../rtnl/kinds/index.js';
import type { LinkChanges, LinkSpec } from '../rtnl/link.js';
import type { RouteSpec } from '../rtnl/route.js';
import type { Session } from '../session.js';
import { execute, orderOps, type CommitStats, type ExecuteOptions, type ProgressFn } from './execute.js';
import { validateOp, type Op, type TapSpec } from './ops.js';
import { NftRecorder } from './nft-recorder.js';
import { renderOps, type Rendered } from './render.js';

export interface CommitOptions {
  /** nftables ruleset generation the plan was read at: a batch that loses a race fails with ERESTART. */
  genid?: number;
  /** Called after each phase: for progress bars on long commits. */
  onProgress?: ProgressFn;
  /** Look up the links the ops name before anything is sent, with `ifindexes` known already (see RunOptions.lookup in commit.ts). */
  lookup?: boolean;
  /** With `lookup`: links known already, name -> ifindex (valid as long as the caller's link events say), not looked up again. */
  ifindexes?: ReadonlyMap<string, number>;
}
export type { CommitStats, ProgressFn };

/** The executor's test hooks (failOp, failUndoOp): reached through src/internal/testing.ts only. */
export type CommitHooks = Pick<ExecuteOptions, 'failOp' | 'failUndoOp'>;

export class Transaction {
  readonly ops: Op[] = [];
  /** The first op refused at enqueue: "op #3" (rtnetlink) or "nft op #0" (the nftables batch's own numbering). */
  private firstError?: { label: string; index?: number; error: Error };
  private committed = false;
  private batch?: Batch;
  private recorder?: NftRecorder;

  constructor(private readonly session: Session) {}

  /**
   * The transaction's nftables ops: tables, chains, rules, sets and elements,
   * committed as one atomic NFNL batch after the routes, and only with the
   * transaction. Each verb validates as it is called; a bad one is remembered
   * like any other op and fails the commit before anything is sent.
   */
  get nft(): NftRecorder {
    if (!this.recorder) {
      const batch = (this.batch = new Batch(this.session.nft.conn));
      this.recorder = new NftRecorder(batch, (error, i) => {
        this.firstError ??= { label: `nft op #${i}`, error };
      });
    }
    return this.recorder;
  }

  /** Adds an op; a malformed op is remembered and fails the commit before anything is sent. */
  add(op: Op): this {
    try {
      validateOp(op);
    } catch (err) {
      this.firstError ??= { label: `op #${this.ops.length}`, index: this.ops.length, error: err as Error };
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
      orderOps(this.ops).map((it) => it.op),
      this.batch?.length ? this.batch.render() : '',
    );
  }
  toString(): string {
    return this.render().text;
  }
  /** A stable machine form: the ops in commit order, and the nft batch as nft syntax. */
  toJSON(): { ops: Op[]; nft: string } {
    return { ops: orderOps(this.ops).map((it) => it.op), nft: this.batch?.length ? this.batch.render() : '' };
  }

  /** Sends everything (see the top of this file); on a failure, rolls back and throws TransactionError. */
  commit(opts: CommitOptions = {}): Promise<CommitStats> {
    const { genid, onProgress, lookup, ifindexes } = opts;
    for (const [name, index] of ifindexes ?? []) {
      if (!Number.isInteger(index) || index <= 0) return Promise.reject(new ValidationError(`ifindexes.${name}`, index, 'must be an ifindex (an integer > 0)'));
    }
    return this.run({
      ...(genid !== undefined ? { genid } : {}),
      ...(onProgress ? { onProgress } : {}),
      ...(lookup ? { lookup } : {}),
      ...(ifindexes?.size ? { ifindexes } : {}),
    });
  }

  /** commit() with test hooks: only through commitWithHooks() (src/internal/testing.ts). */
  private async run(opts: ExecuteOptions): Promise<CommitStats> {
    if (this.committed) throw new Error('transaction already committed');
    if (this.firstError) {
      const { label, error } = this.firstError;
      error.message = `${label}: ${error.message} (nothing was sent)`;
      throw error;
    }
    this.committed = true;
    return execute(this.session, this.ops, this.batch, opts);
  }
}

/** Internal: commit() with the executor's test hooks. Tests reach it through src/internal/testing.ts. */
export function commitWithHooks(tx: Transaction, hooks: CommitHooks, opts: CommitOptions = {}): Promise<CommitStats> {
  return tx['run']({ ...opts, ...hooks });
}
