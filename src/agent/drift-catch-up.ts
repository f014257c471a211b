// The agent watches its namespace's events only after its start sync (so it
// does not decode the kernel's echo of its own thousands of additions: at
// 5000 instances 150-190 ms of CPU on the way to its first status). A change
// someone else made before the watch began, during that sync or just after
// it, is then found here: once the watch is in place, the kernel's state is
// read and compared with what the last good sync wanted (tx/reconcile.ts
// plan: the same reads and diff as a sync, nothing sent). Anything that
// differs is drift, repaired by the sync it starts; anything later is an event.
import type { Handle } from '../handle.js';
import type { AppliedSnapshot } from '../managed/apply.js';
import { ownerNames } from '../managed/ownership.js';
import { roleScope } from '../managed/roles/index.js';
import { describeOp } from '../tx/ops.js';
import { plan } from '../tx/reconcile.js';

/**
 * What differs between the kernel and the desired state `snapshot` was
 * applied for, as one drift reason (undefined: nothing). Plans only the
 * role's own objects, as the sync that applied it did (no takeover: force is
 * an operator's call, not drift).
 */
export async function driftSinceApplied(h: Handle, snapshot: AppliedSnapshot, role: 'cc' | 'nc'): Promise<string | undefined> {
  const p = await plan(h, snapshot.desired, { scope: roleScope(role, false), ...ownerNames });
  if (p.size === 0) return undefined;
  const ops = [...p.removals.ops, ...p.changes.ops];
  const more = ops.length > 1 ? ` and ${ops.length - 1} more` : '';
  return `changed before the namespace was watched: ${ops.length ? describeOp(ops[0]) : `${p.size} ops`}${more}`;
}
