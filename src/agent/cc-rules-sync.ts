// The CC agent's rules-only sync, cc-sync.ts's twin for an authorize or a
// revoke. A version that differs for the CC only by some groups' ingress
// rules (relevance.ts versionChange `rules`) changes those groups' chains
// alone (managed/cc-rules.ts): no preflight, no plan of the role, no NAT maps
// or DHCP hosts made again, and nothing read. Each chain is flushed and
// filled with its new rules in one nftables batch, which the kernel applies
// whole or not at all: a chain someone changed meanwhile comes out as
// planned, and one that is gone fails the batch (ENOENT), after which the
// agent reconciles in full. The snapshot kept for the next sync is the last
// one with the new desired state: the NAT maps, the conntrack step's key and
// the DHCP networks stay those of the last apply, as such a version leaves
// them.
import type { Handle } from '../handle.js';
import type { AppliedSnapshot } from '../managed/apply-snapshot.js';
import { ccRulesChange } from '../managed/cc-rules.js';
import { CC_TABLE } from '../managed/roles/index.js';
import type { AllocatedGroup, AllocatedState } from '../managed/types.js';
import { phase } from '../util/phases.js';
import type { CcSync } from './cc-sync.js';

/**
 * Applies a rules-only version to the CC, whose last sync left `snapshot`:
 * `groups` are the groups of `next` whose rules changed. Undefined when the
 * snapshot's plan lacks one of their chains (the caller plans in full). A
 * rehearsal (`rehearse`: the agent's warm-up) makes the batch and stops
 * there: nothing is sent.
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
  const tx = h.transaction();
  for (const name of c.chains) tx.nft.flushChain({ family: 'ip', table: CC_TABLE, name });
  for (const r of c.rules) tx.nft.addRule(r);
  phase('plan');
  if (rehearse) return { desired: c.desired, delta: c.delta, ops: 0, snapshot };
  const stats = await tx.commit();
  phase('commit');
  return { desired: c.desired, delta: c.delta, ops: stats.nftMessages, snapshot: { ...snapshot, desired: c.desired } };
}
