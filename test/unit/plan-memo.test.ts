// Between two plans of one host: the VXLAN flood lists (managed/roles/flood.ts):
// the last plan's FDB entries, the same (frozen) array, when nothing they are
// made of changed (a group's rules only: the delta then compares them by
// identity); planned again, equal to a plan from scratch, when an instance,
// a group's VLAN or the hosts changed. And a node's ports, kept per instance
// object: the same port objects when the instances are the same. And the CC's
// nftables content (managed/roles/firewall.ts): an unchanged group's chain and
// rules are the same frozen objects, a changed one's (or one whose rules name
// a group whose block changed) made again; equal to a plan from scratch.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { allocate } from '../../src/managed/allocate.js';
import { planRole } from '../../src/managed/roles/index.js';
import type { AllocatedState } from '../../src/managed/types.js';
import { repoRoot } from '../helpers/cli.js';

const seed = allocate({ ...JSON.parse(readFileSync(join(repoRoot, 'examples/seed.json'), 'utf8')), segmentation: 'vxlan', vxlanMacs: 'static' });
const rule = { protocol: 'tcp' as const, from: 8080, to: 8080, cidr: '0.0.0.0/0' };
/** A plan from scratch: every instance a new object, so nothing is taken from the last plan. */
const fresh = (s: AllocatedState) => planRole(structuredClone(s), { role: 'cc' }).fdb;

describe('flood lists between plans', () => {
  it('a version that changed only a rule keeps the same FDB array; the CC plans it whole otherwise', () => {
    const first = planRole(seed, { role: 'cc' }).fdb ?? [];
    expect(first.length).toBeGreaterThan(0);
    const authorized: AllocatedState = {
      ...seed,
      groups: seed.groups.map((g, i) => (i === 0 ? { ...g, rules: [...g.rules, rule] } : g)),
      instances: [...seed.instances],
    };
    expect(planRole(authorized, { role: 'cc' }).fdb).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    const cases: Array<[string, AllocatedState]> = [
      ['an instance MAC', { ...seed, instances: seed.instances.map((x, i) => (i === 0 ? { ...x, mac: 'd0:0d:00:00:99:99' } : x)) }],
      ['an instance gone', { ...seed, instances: seed.instances.slice(1) }],
      ['a group VLAN', { ...seed, groups: seed.groups.map((g, i) => (i === 0 ? { ...g, vlan: 99 } : g)) }],
      ['a node underlay', { ...seed, nodes: { ...seed.nodes, nc2: { ...seed.nodes?.nc2, privateInterface: 'eth0', underlay: '10.0.0.99/24' } } }],
    ];
    for (const [what, next] of cases) {
      const got = planRole(next, { role: 'cc' }).fdb;
      expect(got, what).not.toBe(first);
      expect(got, what).toEqual(fresh(next));
      expect(got, what).not.toEqual(first);
    }
  });

  it("an instance added or removed makes its group's entries again, the other groups' are the same objects", () => {
    const first = planRole(seed, { role: 'cc' }).fdb ?? [];
    const gone = seed.instances[0];
    const devOf = (s: AllocatedState) => (planRole(s, { role: 'cc' }).fdb ?? []).find((e) => e.lladdr === gone.mac)?.dev;
    const dev = devOf(seed);
    expect(dev).toBeDefined();
    const without: AllocatedState = { ...seed, instances: seed.instances.slice(1) };
    const got = planRole(without, { role: 'cc' }).fdb ?? [];
    const others = got.filter((e) => e.dev !== dev);
    expect(others.length).toBeGreaterThan(0);
    for (const e of others) expect(first).toContain(e);
    expect(got.filter((e) => e.dev === dev).every((e) => !first.includes(e))).toBe(true);
    // And back: the instance's group made again, equal to a plan from scratch.
    const back = planRole({ ...seed, instances: [...seed.instances] }, { role: 'cc' }).fdb ?? [];
    expect(back).toEqual(first);
    expect(back.filter((e) => e.dev !== dev).every((e) => got.includes(e))).toBe(true);
    // (Last: a plan from scratch has other instance objects, and its parts replace these.)
    expect(got).toEqual(fresh(without));
  });

  it("a node's ports are the same objects for unchanged instances, and planned again for a changed one", () => {
    const role = { role: 'nc' as const, node: 'nc1' };
    const first = planRole(seed, role).ports ?? [];
    expect(first.length).toBeGreaterThan(1);
    const authorized: AllocatedState = { ...seed, groups: seed.groups.map((g) => ({ ...g, rules: [...g.rules, rule] })), instances: [...seed.instances] };
    const again = planRole(authorized, role).ports ?? [];
    expect(again).toHaveLength(first.length);
    // (The private NIC's own port, not an instance's, is made each time.)
    again.forEach((p, k) => {
      if (p.tap) expect(p).toBe(first[k]);
    });
    // An instance replaced (a new object: its MAC changed), and a group's VLAN (its bridge) changed.
    const i0 = seed.instances.findIndex((i) => i.node === 'nc1');
    const moved: AllocatedState = {
      ...seed,
      instances: seed.instances.map((x, i) => (i === i0 ? { ...x, mac: 'd0:0d:00:00:99:99' } : x)),
      groups: seed.groups.map((g) => (g.owner === 'admin' && g.name === 'web' ? { ...g, vlan: 99 } : g)),
    };
    const ports = planRole(moved, role).ports ?? [];
    expect(ports).toEqual(planRole(structuredClone(moved), role).ports);
    expect(ports.some((p) => p.master === 'eucabr99')).toBe(true);
    expect(ports.filter((p, k) => p !== first[k]).length).toBeGreaterThan(0);
  });

  it("a node's anti-spoofing elements are the same for unchanged instances, and made again for a changed one", () => {
    const role = { role: 'nc' as const, node: 'nc1' };
    const setOf = (s: AllocatedState, name: string) => planRole(s, role).nft?.sets.find((x) => x.name === name)?.elements ?? [];
    const authorized: AllocatedState = { ...seed, groups: seed.groups.map((g) => ({ ...g, rules: [...g.rules, rule] })), instances: [...seed.instances] };
    for (const name of ['macs', 'ips']) {
      const first = setOf(seed, name);
      expect(first.length).toBeGreaterThan(1);
      setOf(authorized, name).forEach((e, k) => expect(e, name).toBe(first[k]));
    }
    const i0 = seed.instances.findIndex((i) => i.node === 'nc1');
    const changed: AllocatedState = { ...seed, instances: seed.instances.map((x, i) => (i === i0 ? { ...x, mac: 'd0:0d:00:00:99:99' } : x)) };
    expect(setOf(changed, 'macs')).toEqual(setOf(structuredClone(changed), 'macs'));
    expect(setOf(changed, 'macs')).toContainEqual([seed.instances[i0].port, 'd0:0d:00:00:99:99']);
  });

  it("the CC's group chains and rules: the same frozen objects for an unchanged group, made again otherwise, equal to a plan from scratch", () => {
    const fromWeb = { protocol: 'tcp' as const, from: 5432, to: 5432, sourceGroup: 'admin/web' };
    // default allows web in: its rule's source is web's block.
    const base: AllocatedState = { ...seed, groups: seed.groups.map((g) => (g.name === 'default' ? { ...g, rules: [...g.rules, fromWeb] } : g)) };
    const nftOf = (s: AllocatedState) => planRole(s, { role: 'cc' }).nft!;
    const chainOf = (s: AllocatedState, name: string) => nftOf(s).rules.filter((r) => r.chain === name);
    const scratch = (s: AllocatedState) => planRole(structuredClone(s), { role: 'cc' }).nft;
    const first = { def: chainOf(base, 'admin-default'), web: chainOf(base, 'admin-web') };
    expect(first.def).toHaveLength(2);
    expect(first.def.every((r) => Object.isFrozen(r))).toBe(true);
    // web authorizes a rule: web's chain is made again, default's kept.
    const authorized: AllocatedState = { ...base, groups: base.groups.map((g) => (g.name === 'web' ? { ...g, rules: [...g.rules, rule] } : g)) };
    chainOf(authorized, 'admin-default').forEach((r, k) => expect(r).toBe(first.def[k]));
    expect(chainOf(authorized, 'admin-web')).toHaveLength(2);
    expect(chainOf(authorized, 'admin-web')[0]).not.toBe(first.web[0]);
    expect(nftOf(authorized)).toEqual(scratch(authorized));
    // web's block moves (a new web object), default is the same object: its part is made again, its rule from web on the new block.
    const moved: AllocatedState = { ...base, groups: base.groups.map((g) => (g.name === 'web' ? { ...g, subnet: '10.1.3.0/27' } : g)) };
    const def = chainOf(moved, 'admin-default');
    expect(def[1]).not.toBe(first.def[1]);
    expect(JSON.stringify(def[1])).not.toEqual(JSON.stringify(first.def[1]));
    expect(nftOf(moved)).toEqual(scratch(moved));
    // A rule naming a group that is not there is refused with the field named, memo or not.
    const unknown: AllocatedState = {
      ...base,
      groups: base.groups.map((g) => (g.name === 'default' ? { ...g, rules: [{ ...fromWeb, sourceGroup: 'admin/nope' }] } : g)),
    };
    expect(() => nftOf(unknown)).toThrow(/sourceGroup/);
  });
});
