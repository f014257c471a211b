// Applying a role: the allocated state planned for this host (roles/), then
// reconciled against the kernel, and for the cluster controller the DHCP
// server brought in line. The command line, the demo and the operations in
// cloud.ts all come through here.
//
// Before anything is sent: preflight (preflight.ts: the host's interfaces,
// 802.1Q, segmentation auto decided), and the role check (ownership.ts: the
// plan covers this role's objects only, and another role's objects in the
// namespace stop it unless `force`).
import { open, type Handle } from '../handle.js';
import type { Netns } from '../netlink/socket.js';
import type { DesiredState } from '../tx/desired.js';
import type { Foreign } from '../tx/owner.js';
import { plan, reconcile, type ReconcilePlan } from '../tx/reconcile.js';
import type { CommitStats, ProgressFn } from '../tx/transaction.js';
import { DhcpValidationError, type DhcpNetwork } from '../dhcp/index.js';
import { applyConntrack, ConntrackApplyError, type ApplyConntrack } from './apply-conntrack.js';
import {
  applyDhcp,
  planDhcp,
  planHosts,
  plannedOnly,
  startDhcpEarly,
  startsFresh,
  undoEarlyDhcp,
  type ApplyDhcp,
  type DhcpOptions,
  type PlannedDhcp,
} from './apply-dhcp.js';
import { checkRoleConflict, ownerNames } from './ownership.js';
import { PreflightError, preflight, type Resolved } from './preflight.js';
import { planRole, roleScope, type Role } from './roles/index.js';
import { recordSysctls } from './sysctl-record.js';
import { ctOwedSince, dhcpNetworksSince, natKeyOf, type AppliedSnapshot, type DhcpInputs } from './apply-snapshot.js';
import { natMapsOf } from './ct-reconcile.js';
import { hostChangeOf } from './dhcp-delta.js';
import { deltaOf, type Delta } from '../tx/delta.js';
import type { AllocatedState, Segmentation } from './types.js';
import { phase } from '../util/phases.js';

export interface ApplyOptions {
  /** The host's namespace (a name under /run/netns, a path or an fd). */
  netns?: Netns;
  /** Compute and return the plan, change nothing. */
  dryRun?: boolean;
  /** Run DHCP for the cluster controller (default true for role cc). */
  dhcp?: boolean;
  /** The CC's DHCP server: state directory, dnsmasq path, timeouts (the namespace is `netns`). */
  dhcpOptions?: DhcpOptions;
  /** Take over (remove or change) the other role's objects in the namespace instead of refusing. */
  force?: boolean;
  onProgress?: ProgressFn;
  /**
   * A handle to use (on the namespace `netns` names) instead of opening one for
   * this call; it is left open. A long-lived caller (the agent) passes its own,
   * so that it knows which sockets its changes come from.
   */
  handle?: Handle;
  /**
   * The snapshot of the last apply of this role on this host (its result's
   * `snapshot`): the apply is then incremental. Only the sections of the
   * desired state that differ from the snapshot's are read from the kernel
   * and reconciled (tx/delta.ts, tx/partial.ts), DHCP is left alone when its
   * networks are the same, and the conntrack step runs only when the NAT maps
   * changed. Not on a dry run.
   */
  previous?: AppliedSnapshot;
  /**
   * Interfaces the caller knows are there, name -> ifindex: a snapshot's
   * `interfaces`, when no link event named one of them since (the agent
   * watches its namespace's events). Preflight does not ask the kernel for
   * these again.
   */
  knownInterfaces?: ReadonlyMap<string, number>;
  /**
   * A rehearsal (the agent's warm-up): the apply runs as far as the commit
   * (preflight, DHCP's plan, the role's plan, the kernel read and the diff
   * of what changed since `previous`) and stops there: nothing is sent,
   * written, started or recorded; the result has no snapshot and `ops` 0
   * (`plan` says what would have been sent).
   */
  rehearse?: boolean;
  /**
   * An incremental apply (`previous`) whose NAT maps changed does not run the
   * conntrack step: the result's `conntrackAfter` does, when the caller
   * calls it (the agent: after it reported the sync, off its path), and then
   * records it in the snapshot. Until it succeeds the snapshot says the step
   * is owed, and the next apply runs it. A full apply always runs it, and
   * so does an apply without `handle` (the step uses the caller's handle,
   * which must still be open then).
   */
  conntrackAfter?: boolean;
}

export interface ApplyResult {
  desired: DesiredState;
  plan: ReconcilePlan;
  /** Mutating ops sent (0 on a dry run, or when nothing differed). */
  ops: number;
  stats: CommitStats[];
  /** The CC's DHCP: planned (dry run) or done. */
  dhcp?: ApplyDhcp;
  /** The CC's conntrack entries that no longer match the NAT maps: listed (dry run) or deleted. */
  conntrack?: ApplyConntrack;
  /** The segmentation applied (auto decided for this host). */
  segmentation: Segmentation;
  /** How auto was decided, when it was. */
  note?: string;
  /** eucanet objects this role left alone (an older eucanet's), or took over with force. */
  foreign: Foreign[];
  /** For the next apply's `previous` (absent on a dry run). */
  snapshot?: AppliedSnapshot;
  /** An incremental apply: what differed from `previous`. */
  delta?: Delta;
  /** The conntrack step left to the caller (ApplyOptions.conntrackAfter): run it once; a failure is a ConntrackApplyError. */
  conntrackAfter?: () => Promise<ApplyConntrack>;
}

export { dhcpServerFor, planDhcp, type ApplyDhcp, type DhcpOptions } from './apply-dhcp.js';
export { ConntrackApplyError, type ApplyConntrack } from './apply-conntrack.js';
export type { AppliedSnapshot } from './apply-snapshot.js';

/**
 * Applies a role. Everything is checked before anything is sent: the role's
 * plan and, for the cluster controller, its DHCP (planDhcp). The network is
 * then reconciled; for the cluster controller, conntrack entries the NAT maps
 * no longer match are deleted (every apply, changed or not: apply-conntrack.ts)
 * and DHCP brought in line. A failure of either after the network is applied is
 * a ConntrackApplyError or DhcpApplyError saying so.
 */
export async function applyRole(state: AllocatedState, role: Role, opts: ApplyOptions = {}): Promise<ApplyResult> {
  const h: Handle = opts.handle ?? open(opts.netns !== undefined ? { netns: opts.netns } : {});
  try {
    const { pre, dhcp, dhcpNets, dhcpInputs, dhcpSame } = await checkHost(h, state, role, opts);
    phase('preflight');
    const desired = planRole(pre.state, role);
    phase('plan');
    const force = opts.force ?? false;
    const scoped = { scope: roleScope(role.role, force), ...ownerNames };
    const base = { desired, segmentation: pre.state.segmentation, ...(pre.note ? { note: pre.note } : {}) };
    if (opts.dryRun) {
      const p = await plan(h, desired, scoped);
      checkRoleConflict(role.role, p, force);
      const out: ApplyResult = { ...base, plan: p, ops: 0, stats: [], foreign: p.foreign, ...(dhcp ? { dhcp: plannedOnly(dhcp) } : {}) };
      if (role.role === 'cc') out.conntrack = await applyConntrack(h, pre.state, 0, true);
      return out;
    }
    const previous = opts.previous;
    const delta = previous ? deltaOf(previous.desired, desired) : undefined;
    // A fresh dnsmasq starts while the network is committed (apply-dhcp.ts startsFresh).
    const early = dhcp && !opts.rehearse && startsFresh(dhcp) ? await startDhcpEarly(dhcp) : undefined;
    let r: Awaited<ReturnType<typeof reconcile>>;
    try {
      r = await reconcile(h, desired, {
        ...scoped,
        ...(delta ? { only: delta } : {}),
        onPlan: (p) => {
          checkRoleConflict(role.role, p, force);
          if (opts.rehearse) throw new Rehearsed(p);
          if (p.changes.ops.some((o) => o.op === 'sysctl')) recordSysctls(opts.netns, desired.sysctls ?? {});
        },
        ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
      });
    } catch (err) {
      if (err instanceof Rehearsed) return { ...base, plan: err.plan, ops: 0, stats: [], foreign: err.plan.foreign, ...(delta ? { delta } : {}) };
      if (dhcp && early) await undoEarlyDhcp(dhcp, early);
      throw err;
    }
    const snapshot: AppliedSnapshot = { desired, interfaces: pre.interfaces };
    const out: ApplyResult = { ...base, plan: r.plan, ops: r.ops, stats: r.stats, foreign: r.plan.foreign, snapshot, ...(delta ? { delta } : {}) };
    // After the nft commit: until this step, a stale entry may still carry a
    // packet or two. An incremental apply skips it when the NAT maps are the
    // ones it last succeeded for (a full apply always runs it: crash repair).
    let ctErr: ConntrackApplyError | undefined;
    if (role.role === 'cc') {
      const nat = (snapshot.nat = natMapsOf(pre.state));
      const natKey = natKeyOf(nat);
      try {
        if (previous?.natKey === natKey) snapshot.natKey = natKey;
        else {
          // Only the entries of the addresses whose mappings changed since the step last succeeded.
          const owed = ctOwedSince(previous, nat);
          if (owed) snapshot.ctOwed = owed;
          if (previous && opts.conntrackAfter && opts.handle) out.conntrackAfter = conntrackLater(h, pre.state, r.ops, snapshot, natKey);
          else {
            out.conntrack = await applyConntrack(h, pre.state, r.ops, false, owed);
            snapshot.natKey = natKey;
            delete snapshot.ctOwed;
          }
        }
        phase('conntrack');
      } catch (err) {
        if (!(err instanceof ConntrackApplyError)) throw err;
        ctErr = err;
      }
    }
    if (dhcp) out.dhcp = await applyDhcp(dhcp, r.ops, early);
    if (dhcpNets !== undefined && (dhcp || dhcpSame)) Object.assign(snapshot, { dhcpNets, dhcpInputs });
    phase('dhcp');
    if (ctErr) throw ctErr;
    return out;
  } finally {
    if (h !== opts.handle) h.close();
  }
}

/** The conntrack step of an apply, run later by the caller; recorded in the apply's snapshot when it succeeds. */
function conntrackLater(h: Handle, state: AllocatedState, ops: number, snapshot: AppliedSnapshot, natKey: string): () => Promise<ApplyConntrack> {
  return async () => {
    const r = await applyConntrack(h, state, ops, false, snapshot.ctOwed);
    snapshot.natKey = natKey;
    delete snapshot.ctOwed;
    return r;
  };
}

/** Stops a rehearsal's reconcile before its commit, carrying the plan. */
class Rehearsed extends Error {
  constructor(readonly plan: ReconcilePlan) {
    super('rehearsal: stopped before the commit');
  }
}

/**
 * Preflight and, for the cluster controller, DHCP's plan, checked together:
 * every problem of both in one error, before anything is sent. DHCP is
 * planned on the resolved state (segmentation auto decided for this host).
 * DHCP's own error is kept when it is the only one.
 */
async function checkHost(h: Handle, state: AllocatedState, role: Role, opts: ApplyOptions) {
  let dhcp: PlannedDhcp | undefined;
  let dhcpErr: DhcpValidationError | undefined;
  let dhcpNets: DhcpNetwork[] | undefined;
  let dhcpSame = false;
  let dhcpInputs: DhcpInputs | undefined;
  const planIt = async (resolved: Resolved['state']): Promise<string[]> => {
    const cluster = role.role === 'cc' ? role.cluster : undefined;
    const prev = opts.dryRun ? undefined : opts.previous;
    const made = dhcpNetworksSince(prev, resolved, cluster);
    const networks = (dhcpNets = made.networks);
    dhcpInputs = made.inputs;
    // Only hosts changed since the last apply: only they are checked and handed to dnsmasq.
    const change = !prev?.dhcpNets ? undefined : networks === prev.dhcpNets ? { add: [], del: [] } : hostChangeOf(prev.dhcpNets, networks);
    // The same networks as the last apply served: nothing to check or change.
    if (change && !change.add.length && !change.del.length) {
      dhcpSame = true;
      return [];
    }
    try {
      dhcp = change
        ? planHosts(resolved, opts.netns, opts.dhcpOptions ?? {}, networks, change, prev?.dhcpInputs?.instances)
        : await planDhcp(resolved, opts.netns, opts.dhcpOptions, cluster, networks);
      return [];
    } catch (err) {
      if (!(err instanceof DhcpValidationError)) throw err;
      dhcpErr = err;
      return err.problems.map((p) => p.message);
    }
  };
  try {
    const more = role.role === 'cc' && (opts.dhcp ?? true) ? planIt : undefined;
    const pre = await preflight(h, state, role, undefined, more, opts.knownInterfaces);
    return { pre, dhcp, dhcpNets, dhcpInputs, dhcpSame };
  } catch (err) {
    if (err instanceof PreflightError && dhcpErr && err.problems.length === dhcpErr.problems.length) throw dhcpErr;
    throw err;
  }
}

export { downRole, type DownOptions, type DownReport } from './down.js';
