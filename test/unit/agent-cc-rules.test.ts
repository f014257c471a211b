// relevance.ts versionChange `rules` + managed/cc-rules.ts, the CC agent's
// rules-only path: a property test over random clouds and random edits.
// Whenever a version differs for the CC only by some groups' rules, the
// desired state ccRulesChange makes from the last plan must be the full
// plan of the new state as a delta reads it (deltaOf finds nothing between
// them), its delta must name the chains a full delta names, and the full
// plans must differ in nothing but those rules. A version that also changes
// an instance, a group's block or a setting must not be called rules-only.
import { describe, expect, it } from 'vitest';
import { versionChange } from '../../src/agent/relevance.js';
import { allocate } from '../../src/managed/allocate.js';
import { ccRulesChange } from '../../src/managed/cc-rules.js';
import { planRole } from '../../src/managed/roles/index.js';
import type { AllocatedState, State } from '../../src/managed/types.js';
import { deltaOf, describeDelta, isEmptyDelta } from '../../src/tx/delta.js';
import type { DesiredState } from '../../src/tx/desired.js';
import { uniform } from '../fuzz/prng.js';
import { EDITS, GROUPS, pickOf, propertyTimeout, randomCloud as cloud, type Edit } from '../helpers/random-cloud.js';

const CC = { role: 'cc' as const };
let port = 2000;

/** Rule edits (one group, several, a source group, a rule changed in place), and a rule edit made with another change. */
const RULE_EDITS: Record<string, Edit> = {
  revoke: (s, r) => pickOf(s.groups ?? [], r)?.rules?.pop(),
  authorizeFromGroup: (s, r) => pickOf(s.groups ?? [], r)?.rules?.push({ protocol: 'udp', from: port++, sourceGroup: `u/${pickOf(GROUPS, r)}` }),
  authorizeIcmp: (s, r) => pickOf(s.groups ?? [], r)?.rules?.push({ protocol: 'icmp', icmpType: 8, cidr: '10.9.0.0/16' }),
  changePort: (s, r) => {
    const g = pickOf(s.groups ?? [], r);
    if (g?.rules?.[0]) g.rules[0] = { ...g.rules[0], from: port++ };
  },
  authorizeEvery: (s) => {
    for (const g of s.groups ?? []) g.rules?.push({ protocol: 'tcp', from: port++, to: port++, cidr: '0.0.0.0/0' });
  },
  authorizeAndRun: (s, r) => {
    EDITS.authorize(s, r);
    EDITS.run(s, r);
  },
  authorizeAndDns: (s, r) => {
    EDITS.authorize(s, r);
    EDITS.dns(s, r);
  },
  authorizeAndNewGroup: (s, r) => {
    EDITS.authorize(s, r);
    s.groups?.push({ owner: 'u', name: `n${port++}`, rules: [] });
  },
};
const ALL: Record<string, Edit> = { ...EDITS, ...RULE_EDITS };
const RULES_ONLY = new Set(['authorize', 'revoke', 'authorizeFromGroup', 'authorizeIcmp', 'changePort', 'authorizeEvery']);

/** A plan without its nftables rules: what a rules-only version must leave as it was. */
const withoutRules = (d: DesiredState) => ({ ...d, nft: { ...d.nft, rules: [] } });

/** Random edits checked; the test's timeout is sized from them. */
const CASES = 1200;

describe("the CC's rules-only path (versionChange + ccRulesChange)", () => {
  it('equals the full plan over 1200 random edits, and is said of rule edits only', { timeout: propertyTimeout(CASES) }, () => {
    const r = uniform(43);
    const seen = { rules: 0, chains: 0, byEdit: {} as Record<string, Record<string, number>> };
    for (let n = 0; n < CASES; n++) {
      let prev: AllocatedState;
      let next: AllocatedState;
      const name = pickOf(Object.keys(ALL), r);
      try {
        prev = allocate(cloud(r));
        const edited = structuredClone(prev) as State;
        ALL[name](edited, r);
        next = allocate(edited);
      } catch {
        continue; // a state the schema refuses is no version
      }
      const v = versionChange(prev, next, CC);
      (seen.byEdit[name] ??= {})[v.kind] = (seen.byEdit[name]?.[v.kind] ?? 0) + 1;
      if (v.kind !== 'rules') continue;
      expect(RULES_ONLY.has(name), `${name} called rules-only`).toBe(true);
      const before = planRole(prev, CC);
      const after = planRole(next, CC);
      expect(withoutRules(after), `${name}: all but the rules`).toEqual(withoutRules(before));
      const c = ccRulesChange(before, next, v.groups);
      expect(c, name).toBeDefined();
      if (!c) continue;
      // What a delta reads of the quick plan is the full plan: the next sync's delta from it finds nothing.
      expect(describeDelta(deltaOf(c.desired, after)), `${name}: quick plan vs full plan`).toBe('nothing');
      expect(isEmptyDelta({ ...c.delta, nft: { ...c.delta.nft, chains: new Set() } }), name).toBe(true);
      // Its delta names the chains a full delta names (a group whose rules came to the same is named too: read, nothing sent).
      const full = deltaOf(before, after).nft.chains;
      for (const k of full) expect(c.delta.nft.chains.has(k), `${name}: chain ${k}`).toBe(true);
      expect(c.delta.nft.chains.size, name).toBe(v.groups.length);
      seen.rules++;
      if (full.size) seen.chains++;
    }
    // Not vacuous: most rule edits are rules-only, and change a chain.
    expect(seen.rules).toBeGreaterThan(200);
    expect(seen.chains).toBeGreaterThan(200);
    for (const k of ['revoke', 'authorizeFromGroup', 'changePort', 'authorizeEvery']) expect(seen.byEdit[k]?.rules ?? 0, k).toBeGreaterThan(20);
    // A rule with an instance, a setting or a new group is not rules-only.
    for (const k of ['authorizeAndRun', 'authorizeAndDns', 'authorizeAndNewGroup']) expect(seen.byEdit[k]?.maybe ?? 0, k).toBeGreaterThan(20);
  });

  it('an authorize and its revoke name the group and its chain; a source group resolves to its block', () => {
    const prev = allocate({ ...cloud(uniform(5)), segmentation: 'vxlan' });
    const authorized = structuredClone(prev);
    authorized.groups[1].rules.push({ protocol: 'tcp', from: 443, sourceGroup: 'u/a' });
    const next = allocate(authorized);
    const v = versionChange(prev, next, CC);
    expect(v).toEqual({ kind: 'rules', groups: [next.groups[1]] });
    if (v.kind !== 'rules') return;
    const c = ccRulesChange(planRole(prev, CC), next, v.groups);
    expect([...(c?.delta.nft.chains ?? [])]).toEqual(['ip eucanet u-b']);
    const chain = (c?.desired.nft?.rules ?? []).filter((x) => x.chain === 'u-b');
    expect(chain.map((x) => x.comment)).toEqual(['authorize tcp 22 from 0.0.0.0/0', 'authorize tcp 443 from u/a']);
    // Revoked again: the same group, back to one rule.
    const back = versionChange(next, prev, CC);
    expect(back).toEqual({ kind: 'rules', groups: [prev.groups[1]] });
    // A rule naming a group that is not there is refused by name (the agent then plans in full, which refuses it too).
    const unknown = structuredClone(prev);
    unknown.groups[0].rules.push({ protocol: 'tcp', from: 80, sourceGroup: 'u/nope' });
    expect(() => ccRulesChange(planRole(prev, CC), unknown, [unknown.groups[0]])).toThrow(/sourceGroup.*u\/nope/);
  });
});
