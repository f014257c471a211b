// create-group, delete-group, authorize and revoke as pure functions: state -> { state, changes }.
import { isDeepStrictEqual } from 'node:util';
import { ValidationError } from '../../errors.js';
import { ruleIdentity } from '../check-groups.js';
import { groupKey, type Group, type Rule, type State } from '../types.js';
import { must } from '../../util/must.js';
import { base, findGroup, finish, type OpResult } from './result.js';
import { formatRule } from './changes.js';

function parseKey(key: string): { owner: string; name: string } {
  const m = typeof key === 'string' ? /^([^/]+)\/([^/]+)$/.exec(key) : null;
  if (!m) throw new ValidationError('group', key, 'expected "owner/name"');
  return { owner: m[1], name: m[2] };
}

/** Adds a group (no rules); its VLAN and subnet block are allocated unless given. */
export function createGroup(state: State, g: Group | string): OpResult {
  const s = base(state);
  const group: Group = typeof g === 'string' ? { ...parseKey(g), rules: [] } : structuredClone(g);
  const key = groupKey(group);
  if ((s.groups ?? []).some((x) => groupKey(x) === key)) throw new ValidationError('group', key, 'already exists');
  s.groups = [...(s.groups ?? []), group];
  return finish(s, (a) => {
    const made = must(a.groups.at(-1), 'the group just added');
    return [{ kind: 'group-added', group: key, vlan: made.vlan, subnet: made.subnet }];
  });
}

/** Removes a group: refused while an instance is in it or a rule of another group names it as source. */
export function deleteGroup(state: State, key: string): OpResult {
  const s = base(state);
  const g = findGroup(s, key);
  const users = (s.instances ?? []).filter((i) => i.group === key).map((i) => i.id);
  if (users.length) throw new ValidationError('group', key, `still has instances: ${users.join(', ')}`);
  const sources = (s.groups ?? []).filter((x) => x !== g && (x.rules ?? []).some((r) => r.sourceGroup === key)).map(groupKey);
  if (sources.length) throw new ValidationError('group', key, `is the source group of rules in ${sources.join(', ')} (revoke them first)`);
  s.groups = (s.groups ?? []).filter((x) => x !== g);
  // base() made the group's vlan and subnet explicit.
  const [vlan, subnet] = [must(g.vlan, `the vlan of ${key}`), must(g.subnet, `the subnet of ${key}`)];
  return finish(s, () => [{ kind: 'group-removed', group: key, vlan, subnet }]);
}

/** Adds an ingress rule to a group; a rule matching the same packets as one it has is refused. */
export function authorize(state: State, key: string, rule: Rule): OpResult {
  const s = base(state);
  const g = findGroup(s, key);
  if (rule.sourceGroup !== undefined) findGroup(s, rule.sourceGroup, 'sourceGroup');
  const same = (g.rules ?? []).find((r) => ruleIdentity(r) === ruleIdentity(rule));
  if (same) throw new ValidationError('rule', rule, `group ${key} already has this rule (${formatRule(same)})`);
  g.rules = [...(g.rules ?? []), structuredClone(rule)];
  return finish(s, () => [{ kind: 'rule-added', group: key, rule }]);
}

/** Removes the ingress rule of a group equal to `rule` (omitted defaults count as given). */
export function revoke(state: State, key: string, rule: Rule): OpResult {
  const s = base(state);
  const g = findGroup(s, key);
  const canon = (r: Rule) => ({ icmpType: -1, icmpCode: -1, ...r, to: r.to ?? r.from });
  const i = (g.rules ?? []).findIndex((r) => isDeepStrictEqual(canon(r), canon(rule)));
  if (i < 0) throw new ValidationError('rule', rule, `group ${key} has no such rule`);
  const [removed] = (g.rules ?? []).splice(i, 1);
  return finish(s, () => [{ kind: 'rule-removed', group: key, rule: removed }]);
}
