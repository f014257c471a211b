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
import { DhcpServer, dhcpNetworksOf, type UpdateResult } from '../dhcp/index.js';
import type { DesiredState } from '../tx/desired.js';
import type { Foreign } from '../tx/owner.js';
import { plan, reconcile, type ReconcilePlan } from '../tx/reconcile.js';
import type { CommitStats, ProgressFn } from '../tx/transaction.js';
import { checkRoleConflict, ownerNames } from './ownership.js';
import { preflight } from './preflight.js';
import { bridgeOf, planRole, roleScope, type Role } from './roles/index.js';
import { recordSysctls } from './sysctl-record.js';
import type { AllocatedState, Segmentation } from './types.js';

export interface ApplyOptions {
  /** The host's namespace (a name under /run/netns, a path or an fd). */
  netns?: Netns;
  /** Compute and return the plan, change nothing. */
  dryRun?: boolean;
  /** Run DHCP for the cluster controller (default true for role cc). */
  dhcp?: boolean;
  /** Take over (remove or change) the other role's objects in the namespace instead of refusing. */
  force?: boolean;
  onProgress?: ProgressFn;
}

export interface ApplyResult {
  desired: DesiredState;
  plan: ReconcilePlan;
  /** Mutating ops sent (0 on a dry run, or when nothing differed). */
  ops: number;
  stats: CommitStats[];
  dhcp?: UpdateResult;
  /** The segmentation applied (auto decided for this host). */
  segmentation: Segmentation;
  /** How auto was decided, when it was. */
  note?: string;
  /** eucanet objects this role left alone (an older eucanet's), or took over with force. */
  foreign: Foreign[];
}

export function dhcpServerFor(netns: Netns | undefined): DhcpServer {
  return new DhcpServer(typeof netns === 'string' ? { netns } : {});
}

export async function applyRole(state: AllocatedState, role: Role, opts: ApplyOptions = {}): Promise<ApplyResult> {
  const h: Handle = open(opts.netns !== undefined ? { netns: opts.netns } : {});
  try {
    const pre = await preflight(h, state, role);
    const desired = planRole(pre.state, role);
    const force = opts.force ?? false;
    const scoped = { scope: roleScope(role.role, force), ...ownerNames };
    const base = { desired, segmentation: pre.state.segmentation, ...(pre.note ? { note: pre.note } : {}) };
    if (opts.dryRun) {
      const p = await plan(h, desired, scoped);
      checkRoleConflict(role.role, p, force);
      return { ...base, plan: p, ops: 0, stats: [], foreign: p.foreign };
    }
    const r = await reconcile(h, desired, {
      ...scoped,
      onPlan: (p) => {
        checkRoleConflict(role.role, p, force);
        if (p.changes.ops.some((o) => o.op === 'sysctl')) recordSysctls(opts.netns, desired.sysctls ?? {});
      },
      ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
    });
    const out: ApplyResult = { ...base, plan: r.plan, ops: r.ops, stats: r.stats, foreign: r.plan.foreign };
    if (role.role === 'cc' && (opts.dhcp ?? true)) {
      const networks = dhcpNetworksOf(pre.state, { bridge: (g) => bridgeOf(pre.state, g) });
      out.dhcp = await dhcpServerFor(opts.netns).update(networks.filter((n) => n.hosts.length));
    }
    return out;
  } finally {
    h.close();
  }
}

export { downRole, type DownOptions, type DownReport } from './down.js';
