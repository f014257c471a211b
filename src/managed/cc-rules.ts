// The CC's desired state after a version that differs for it only by some
// groups' ingress rules (an authorize, a revoke: agent/relevance.ts
// versionChange `rules`): the last desired state with those groups' chains'
// rules made again (roles/firewall.ts groupIngress), and the delta that names
// those chains alone. All else a full plan makes of such a version is what it
// made of the last: the links, addresses and FDB read no rules, the NAT maps
// and DHCP hosts read the instances, and the forward chain's rules of a group
// read its block and chain name, not its rules. Pure.
import type { RuleSpec } from '../nft/batch.js';
import { emptyDelta, type Delta } from '../tx/delta.js';
import type { DesiredState } from '../tx/desired.js';
import { groupIngress } from './roles/firewall.js';
import { CC_TABLE } from './roles/names.js';
import { groupChain, type AllocatedGroup, type AllocatedState } from './types.js';

export interface CcRulesChange {
  /** The CC's desired state with the new rules. */
  desired: DesiredState;
  /** Its delta from the last: those chains. */
  delta: Delta;
  /** The chains whose rules are made again (in table ip eucanet), and their new rules, in order. */
  chains: string[];
  rules: RuleSpec[];
}

/**
 * `desired` (the CC's last plan) with the rules of `groups` (groups of `next`
 * whose rules alone changed) made from `next`, and the delta of their chains;
 * undefined when `desired` has no chain of one of them (the caller plans in
 * full). A rule naming an unknown source group throws its ValidationError.
 */
export function ccRulesChange(desired: DesiredState, next: AllocatedState, groups: readonly AllocatedGroup[]): CcRulesChange | undefined {
  const nft = desired.nft;
  if (!nft) return undefined;
  const ours = (c: { family: string; table: string }) => c.family === 'ip' && c.table === CC_TABLE;
  const chains = new Set(groups.map(groupChain));
  for (const name of chains) if (!nft.chains.some((c) => ours(c) && c.name === name)) return undefined;
  const made = groups.flatMap((g) => groupIngress(next, g));
  // The other chains' rules as they were, then the new ones (a delta compares rules chain by chain: their order across chains is not read).
  const rules = [...nft.rules.filter((r) => !(ours(r) && chains.has(r.chain))), ...made];
  const delta = emptyDelta();
  for (const name of chains) delta.nft.chains.add(`ip ${CC_TABLE} ${name}`);
  return { desired: { ...desired, nft: { ...nft, rules } }, delta, chains: [...chains], rules: made };
}
