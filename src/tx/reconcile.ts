// Reconcile: read what the kernel has, compute the minimal ops that take it to
// the desired state (diff.ts), and commit them. Idempotent: with nothing to
// change it sends no mutating request at all.
import type { Handle } from '../handle.js';
import { readSysctl } from '../sys/sysctl.js';
import type { DesiredState } from './desired.js';
import { diffState, type KernelState } from './diff.js';
import type { CommitOptions, CommitStats, Transaction } from './transaction.js';

export interface ReconcilePlan {
  /** Owned links in the way of a desired link of another shape, removed first. */
  removals: Transaction;
  changes: Transaction;
  /** Total mutating ops in both. */
  size: number;
}

export interface ReconcileResult {
  /** Mutating ops sent (0 when the kernel already matched). */
  ops: number;
  stats: CommitStats[];
  plan: ReconcilePlan;
}

/** The kernel's current state, as far as the desired state is concerned. */
export async function readKernelState(h: Handle, want: DesiredState): Promise<KernelState> {
  const [links, addresses, routes] = await Promise.all([
    h.links.list(),
    h.addresses.list(),
    h.routes.list({ table: 'all' }),
  ]);
  const sysctls: Record<string, string> = {};
  for (const key of Object.keys(want.sysctls ?? {})) sysctls[key] = readSysctl(h.netns, key);
  return { links, addresses, routes, sysctls };
}

/** Computes what applying `want` would change, without changing anything. */
export async function plan(h: Handle, want: DesiredState): Promise<ReconcilePlan> {
  const cur = await readKernelState(h, want);
  const d = diffState(cur, want);
  const removals = h.transaction();
  for (const op of d.removals) removals.add(op);
  const changes = h.transaction();
  for (const op of d.changes) changes.add(op);
  if (want.nft) changes.nft(...(await want.nft.diff()));
  return { removals, changes, size: removals.size + changes.size };
}

/** Converges the kernel to `want`: plan, then commit (removals first, if any). */
export async function reconcile(h: Handle, want: DesiredState, opts: CommitOptions = {}): Promise<ReconcileResult> {
  const p = await plan(h, want);
  const stats: CommitStats[] = [];
  if (p.removals.size) stats.push(await p.removals.commit());
  if (p.changes.size) stats.push(await p.changes.commit(opts));
  return { ops: p.size, stats, plan: p };
}
