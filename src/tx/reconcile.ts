// Reconcile: read what the kernel has, compute the minimal ops that take it to
// the desired state (diff.ts), and commit them. Idempotent: with nothing to
// change it sends no mutating request at all.
import type { Session } from '../session.js';
import { readSysctl } from '../sys/sysctl.js';
import type { DesiredState } from './desired.js';
import { EUCANET_PROTO } from './owner.js';
import { diffState, prepareDiff, wantedNames, type KernelState } from './diff.js';
import { diffNft, prepareNftPairs, readOwned } from './nft-diff.js';
import { fdbLinks, foreignObjects, type Foreign, type OwnerScope } from './owner.js';
import type { Delta } from './delta.js';
import { planChanged } from './partial.js';
import { addressesOf, getLink, linksOf, listFdb, routeDump, routesOf } from './read.js';
import { AddressDumpRequest } from '../rtnl/address.js';
import { LinkDumpRequest } from '../rtnl/link.js';
import { Transaction, type CommitOptions, type CommitStats } from './transaction.js';
import { phase } from '../util/phases.js';

export interface ReconcilePlan {
  /** Owned links in the way of a desired link of another shape, removed first. */
  removals: Transaction;
  changes: Transaction;
  /** Total mutating ops in both. */
  size: number;
  /** The nftables generation the plan was read at. */
  genid?: number;
  /**
   * With a scope: eucanet objects of other owners (or of none, an older
   * eucanet's) that the plan leaves alone; with `force`, those it takes over.
   */
  foreign: Foreign[];
  /** With `releaseTaps`: the taps `changes` releases, for deleteReleased once the caller has reported the commit. */
  released?: string[];
}

export interface PlanOptions {
  /** Plan only this owner's objects (see owner.ts). */
  scope?: OwnerScope;
  /** Names an owner by its address/route protocol number, for `foreign`. */
  ownerOfProto?: (proto: number) => string | undefined;
  /** Names an owner by a table name, for `foreign`. */
  ownerOfTable?: (name: string) => string | undefined;
  /**
   * Owned taps no longer wanted are released in the commit (out of their
   * bridge and down: nothing reaches or leaves the instance any more) instead
   * of deleted, and named in the plan's `released`. Deleting a device waits
   * for the kernel's RCU grace periods (10 to 30 ms for a tap, most of a
   * terminate's commit); the caller deletes them with deleteReleased once it
   * has said the commit is done (the agent, after its status).
   */
  releaseTaps?: boolean;
}

export interface ReconcileResult {
  /** Mutating ops sent (0 when the kernel already matched). */
  ops: number;
  stats: CommitStats[];
  plan: ReconcilePlan;
  /** Plans made: more than 1 when another applier won a race and we planned again. */
  attempts: number;
}

/** The kernel's current state, as far as the desired state is concerned. */
export async function readKernelState(h: Session, want: DesiredState, scope?: OwnerScope): Promise<KernelState> {
  const scoped = scope !== undefined;
  // With no routes wanted, only eucanet's own matter (to remove them), and the
  // kernel can leave out the rest: a local route per address otherwise. (A
  // scoped plan reads them all: owners' routes carry several protocol numbers.)
  const routeFilter = want.routes?.length || scoped ? { table: 'all' as const } : { table: 'all' as const, protocol: EUCANET_PROTO };
  // The links, addresses and routes. The link dump is the long one (the
  // kernel fills every link): the addresses and routes are dumped beside it on
  // a second connection, and decoded while the kernel still fills the links.
  // Then the FDB entries, only of the vxlan links eucanet manages them on, one
  // dump each filtered by the kernel (none at all without such links).
  const linkRead = h.rtnl.dumps([new LinkDumpRequest()]);
  const otherRead = h.rtnlRead.dumps([new AddressDumpRequest(0, 0), routeDump(routeFilter)]).then(([a, r]) => ({
    addresses: addressesOf(a),
    routes: routesOf(r, routeFilter),
  }));
  const [[linkMsgs], { addresses, routes }] = await Promise.all([linkRead, otherRead]);
  const links = linksOf(linkMsgs);
  const fdbOf = fdbLinks(links, scope);
  const fdb = (await Promise.all(fdbOf.map((l) => listFdb(h, { dev: l.index })))).flat();
  const sysctls: Record<string, string> = {};
  for (const key of Object.keys(want.sysctls ?? {})) {
    try {
      sysctls[key] = readSysctl(h.netns, key);
    } catch (err) {
      // A per-device setting of a device this apply creates does not exist yet.
      if ((err as { code?: string }).code !== 'ENOENT') throw err;
    }
  }
  return fdbOf.length ? { links, addresses, routes, sysctls, fdb } : { links, addresses, routes, sysctls };
}

/** Computes what applying `want` would change, without changing anything. */
export async function plan(h: Session, want: DesiredState, opts: PlanOptions = {}): Promise<ReconcilePlan> {
  const { scope } = opts;
  const keep = scope && !scope.force ? (t: { name: string }) => scope.tables.includes(t.name) : undefined;
  // The nftables reads go over their own socket, so they overlap the
  // rtnetlink dumps. The generation is read first: if another process changes
  // the ruleset after it, the kernel refuses our batch (ERESTART) and we plan again.
  const nftRead = readOwned(h.nft, keep);
  const kernelRead = readKernelState(h, want, scope);
  // Both exchanges are in the kernel's hands now (netlink/socket.ts starts an
  // exchange at once on an idle connection): the desired side of the diff is
  // computed meanwhile.
  const nftWant = want.nft ?? { tables: [], chains: [], sets: [], rules: [] };
  let prep, wantPairs: ReturnType<typeof prepareNftPairs>;
  try {
    prep = prepareDiff(want);
    wantPairs = prepareNftPairs(nftWant);
  } catch (err) {
    // Bad desired input: the reads are let finish (nothing is changed) and the error names the input.
    await Promise.allSettled([kernelRead, nftRead]);
    throw err;
  }
  // The nftables diff is made as soon as they are read, while the kernel still
  // fills the link dump (the longest read). The batch is apart from the
  // rtnetlink ops, which are added after; an error the diff throws is thrown
  // where it always was, after the rtnetlink diff's.
  const changes = new Transaction(h);
  const nftDiff = nftRead.then((cur) => {
    let error: { thrown: unknown } | undefined;
    try {
      if (cur.tables.length || nftWant.tables.length) diffNft(cur, nftWant, changes.nft, wantPairs);
    } catch (thrown) {
      error = { thrown };
    }
    return { cur, error };
  });
  const [cur, { cur: nftCur, error: nftError }] = await Promise.all([kernelRead, nftDiff]);
  phase('reads');
  const d = diffState(cur, want, scope, undefined, prep, opts.releaseTaps);
  const foreign: Foreign[] = [];
  if (scope) {
    foreign.push(...foreignObjects(cur, scope, opts.ownerOfProto ?? (() => undefined), wantedNames(want)));
    const tableOwner = (name: string) => opts.ownerOfTable?.(name) ?? '';
    for (const t of scope.force ? nftCur.tables.filter((x) => !scope.tables.includes(x.name)) : nftCur.skipped) {
      foreign.push({ what: `table ${t.family} ${t.name}`, owner: tableOwner(t.name) });
    }
  }
  const removals = new Transaction(h);
  for (const op of d.removals) removals.add(op);
  for (const op of d.changes) changes.add(op);
  if (nftError) throw nftError.thrown;
  phase('diff');
  return { removals, changes, size: removals.size + changes.size, genid: nftCur.genid, foreign, ...(d.released ? { released: d.released } : {}) };
}

/**
 * Deletes the taps a commit released (ReconcilePlan's `released`), each in
 * its own request; one already gone is skipped. Returns how many were
 * deleted. A tap that is in a bridge again, or up (someone took it back since),
 * is left as it is.
 */
export async function deleteReleased(h: Session, names: readonly string[]): Promise<number> {
  let deleted = 0;
  for (const name of names) {
    try {
      const l = await getLink(h, name);
      if (!l || l.master !== undefined || l.up) continue;
      const tx = new Transaction(h);
      tx.add({ op: 'link.delete', ref: l.index });
      await tx.commit({ lookup: true });
      deleted++;
    } catch (err) {
      if ((err as { code?: string }).code !== 'ENODEV') throw err;
    }
  }
  return deleted;
}

export interface ReconcileOptions extends CommitOptions, PlanOptions {
  /**
   * How many times to re-plan and retry when another process changed the
   * same objects between our read and our commit (EEXIST, ENOENT, ENODEV,
   * EBUSY, ERESTART from a stale nftables generation). Default 5.
   */
  retries?: number;
  /**
   * An incremental reconcile: only what changed since the last applied
   * desired state (delta.ts) is read and diffed (partial.ts). Everything else
   * is taken to be as it was left.
   */
  only?: Delta;
  /** Called with each plan before it is committed; throwing stops the reconcile with nothing sent. */
  onPlan?: (p: ReconcilePlan) => void;
}

const RACE_CODES = new Set(['EEXIST', 'ENOENT', 'ENODEV', 'EBUSY', 'ERESTART', 'EADDRNOTAVAIL', 'ESRCH']);

/**
 * Converges the kernel to `want`: plan, then commit (removals first, if any).
 * Two appliers racing on one namespace each see the other's changes as a
 * failed op; the loser's commit rolls back its own part, and it re-plans from
 * a fresh read, so both end at the same state.
 */
export async function reconcile(h: Session, want: DesiredState, opts: ReconcileOptions = {}): Promise<ReconcileResult> {
  const retries = opts.retries ?? 5;
  const stats: CommitStats[] = [];
  let sent = 0;
  for (let attempt = 0; ; attempt++) {
    const p = opts.only ? await planChanged(h, want, opts.only, opts) : await plan(h, want, opts);
    opts.onPlan?.(p);
    try {
      // An incremental plan names few links among possibly thousands: they are looked up, not dumped.
      const lookup = opts.only !== undefined;
      if (p.removals.size) stats.push(await p.removals.commit({ lookup }));
      if (p.changes.size) stats.push(await p.changes.commit({ ...opts, lookup, ...(p.genid !== undefined ? { genid: p.genid } : {}) }));
      phase('commit');
      return { ops: sent + p.size, stats, plan: p, attempts: attempt + 1 };
    } catch (err) {
      const code = (err as { code?: string }).code ?? '';
      const rolledBack = (err as { rolledBack?: boolean }).rolledBack !== false;
      if (attempt >= retries || !RACE_CODES.has(code) || !rolledBack) throw err;
      sent += p.size;
      await new Promise((r) => setTimeout(r, 5 + Math.random() * 20 * (attempt + 1)));
    }
  }
}
