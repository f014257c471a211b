// The CC agent's rules-only sync, cc-sync.ts's twin for an authorize or a
// revoke. A version that differs for the CC only by some groups' ingress
// rules (relevance.ts versionChange `rules`) changes those groups' chains
// alone (managed/cc-rules.ts): no preflight, no plan of the role, no NAT maps
// or DHCP hosts made again. The chains are read from the kernel and
// reconciled as an incremental apply reconciles a changed chain (the same
// reconcile, with `only` those chains), under the same ownership check. The
// snapshot kept for the next sync is the last one with the new desired state:
// the NAT maps, the conntrack step's key and the DHCP networks stay those of
// the last apply, as such a version leaves them. A failure is rolled back like
// any commit, and the agent falls back to a full reconcile.
import type { Handle } from '../handle.js';
import type { AppliedSnapshot } from '../managed/apply-snapshot.js';
import { ccRulesChange } from '../managed/cc-rules.js';
import { checkRoleConflict, ownerNames } from '../managed/ownership.js';
import { roleScope } from '../managed/roles/index.js';
import type { AllocatedGroup, AllocatedState } from '../managed/types.js';
import { reconcile } from '../tx/reconcile.js';
import { phase } from '../util/phases.js';
import type { CcSync } from './cc-sync.js';

/** Thrown by a rehearsal's plan hook: its reconcile stops before the commit. */
const REHEARSED = new Error('rehearsal: stopped before the commit');

/**
 * Applies a rules-only version to the CC, whose last sync left `snapshot`:
 * `groups` are the groups of `next` whose rules changed. Undefined when the
 * snapshot's plan lacks one of their chains (the caller plans in full). A
 * rehearsal (`rehearse`: the agent's warm-up) reads and diffs the chains and
 * stops before the commit: nothing is sent.
 */
export async function syncCcRules(
  h: Handle,
  snapshot: AppliedSnapshot,
  next: AllocatedState,
  groups: readonly AllocatedGroup[],
  rehearse = false,
): Promise<CcSync | undefined> {
  const c = ccRulesChange(snapshot.desired, next, groups);
  if (!c) return undefined;
  phase('plan');
  try {
    const r = await reconcile(h, c.desired, {
      scope: roleScope('cc', false),
      ...ownerNames,
      only: c.delta,
      onPlan: (p) => {
        checkRoleConflict('cc', p, false);
        if (rehearse) throw REHEARSED;
      },
    });
    return { desired: c.desired, delta: c.delta, ops: r.ops, snapshot: { ...snapshot, desired: c.desired } };
  } catch (err) {
    if (err === REHEARSED) return { desired: c.desired, delta: c.delta, ops: 0, snapshot };
    throw err;
  }
}
