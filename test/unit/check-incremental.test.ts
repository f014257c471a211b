// The incremental check (managed/check-incremental.ts) against the full
// validation (validateState) over random sequences of edits, valid and not:
// each version shares its unchanged objects with the one before, as the etcd
// store's cache hands them over. The two must agree on every version.
import { describe, expect, it } from 'vitest';
import { IncrementalCheck } from '../../src/managed/check-incremental.js';
import { MAX_BRIDGE_PORTS } from '../../src/managed/check-instances.js';
import { allocate, validateState, type Group, type Instance, type State } from '../../src/managed/index.js';
import { uniform } from '../fuzz/prng.js';

const rng = uniform;

function base(): State {
  return allocate({
    mode: 'MANAGED',
    segmentation: 'vxlan',
    subnet: '10.1.0.0/16',
    addrsPerNet: 32,
    publicIps: ['192.168.32.200-192.168.32.230'],
    cc: { publicInterface: 'eth0', privateInterface: 'eth1', underlay: '10.0.0.1/24' },
    nodes: { nc1: { privateInterface: 'eth0', underlay: '10.0.0.11/24' }, nc2: { privateInterface: 'eth0', underlay: '10.0.0.12/24' } },
    groups: ['a', 'b', 'c'].map((name) => ({ owner: 'admin', name, rules: [{ protocol: 'tcp', from: 22, to: 22, cidr: '0.0.0.0/0' }] })),
    instances: Array.from({ length: 24 }, (_, k) => ({ id: `i-${k}`, group: `admin/${'abc'[k % 3]}`, node: `nc${1 + (k % 2)}`, publicIp: k % 4 === 0 })),
    reservedIps: ['192.168.32.229'],
  });
}

const fullValid = (s: State): boolean => {
  try {
    validateState(structuredClone(s));
    return true;
  } catch {
    return false;
  }
};

type Edit = (s: State, r: () => number) => State;
/** The instances of a version (one edit makes the list not a list). */
const insts = (s: State): Instance[] => (Array.isArray(s.instances) ? s.instances : []);
const pick = <T>(xs: readonly T[], r: () => number): T => xs[Math.floor(r() * xs.length)];
const withInstance = (s: State, r: () => number, change: (i: Instance, other: Instance) => Instance): State => {
  const list = [...insts(s)];
  if (!list.length) return s;
  const k = Math.floor(r() * list.length);
  list[k] = change(list[k], pick(list, r));
  return { ...s, instances: list };
};
const withGroup = (s: State, r: () => number, change: (g: Group, other: Group) => Group | undefined): State => {
  const list = [...(s.groups ?? [])];
  if (!list.length) return s;
  const k = Math.floor(r() * list.length);
  const g = change(list[k], pick(list, r));
  if (g) list[k] = g;
  else list.splice(k, 1);
  return { ...s, groups: list };
};

// Each edit makes a new version from the last; many make it invalid on purpose.
const edits: Edit[] = [
  (s, r) => ({
    ...s,
    instances: [
      ...insts(s),
      {
        id: `i-n${Math.floor(r() * 1e6)}`,
        group: 'admin/a',
        node: 'nc1',
        port: `vx${Math.floor(r() * 40)}`,
        privateIp: `10.1.${Math.floor(r() * 3)}.${3 + Math.floor(r() * 20)}`,
      },
    ],
  }),
  (s, r) => ({ ...s, instances: insts(s).filter(() => r() > 0.1) }),
  (s, r) => withInstance(s, r, (i, o) => ({ ...i, privateIp: o.privateIp })),
  (s, r) => withInstance(s, r, (i, o) => ({ ...i, mac: o.mac })),
  (s, r) => withInstance(s, r, (i, o) => ({ ...i, publicIp: typeof o.publicIp === 'string' ? o.publicIp : '192.168.32.201' })),
  (s, r) => withInstance(s, r, (i, o) => ({ ...i, port: o.port, node: o.node })),
  (s, r) => withInstance(s, r, (i, o) => ({ ...i, id: o.id })),
  (s, r) => withInstance(s, r, (i) => ({ ...i, node: 'nc9' })),
  (s, r) => withInstance(s, r, (i) => ({ ...i, group: 'admin/zz' })),
  (s, r) => withInstance(s, r, (i) => ({ ...i, port: 'eth0' })),
  (s, r) => withInstance(s, r, (i) => ({ ...i, extra: 1 }) as Instance),
  (s, r) => withInstance(s, r, (i) => ({ ...i, publicIp: '192.168.99.1' })),
  (s, r) => withInstance(s, r, (i) => ({ ...i, mac: '01:00:00:00:00:01' })),
  (s, r) => withGroup(s, r, (g) => ({ ...g, rules: [...(g.rules ?? []), { protocol: 'tcp', from: 1 + Math.floor(r() * 100), cidr: '0.0.0.0/0' }] })),
  (s, r) => withGroup(s, r, (g, o) => ({ ...g, rules: [{ protocol: 'tcp', sourceGroup: `${o.owner}/${o.name}` }] })),
  (s, r) => withGroup(s, r, (g) => ({ ...g, rules: [{ protocol: 'tcp', sourceGroup: 'admin/nope' }] })),
  (s, r) => withGroup(s, r, (g, o) => ({ ...g, subnet: o.subnet })),
  (s, r) => withGroup(s, r, (g) => ({ ...g, subnet: `10.1.${10 + Math.floor(r() * 5)}.0/27` })),
  (s, r) => withGroup(s, r, () => undefined),
  (s, r) => withGroup(s, r, (g, o) => ({ ...g, name: o.name })),
  (s) => ({ ...s, groups: [...(s.groups ?? []), { owner: 'admin', name: 'a', vlan: 99, subnet: '10.1.20.0/27' }] }),
  (s) => ({ ...s, publicIps: ['192.168.32.200-192.168.32.210'] }),
  (s) => ({ ...s, nodes: { nc1: (s.nodes ?? {}).nc1 } }),
  (s) => ({ ...s, nodes: { ...s.nodes } }),
  (s) => ({ ...s, subnet: '10.1.0.0/24' }),
  (s, r) => ({ ...s, reservedIps: [...(s.reservedIps ?? []), `192.168.32.${200 + Math.floor(r() * 35)}`] }),
  (s) => ({ ...s, reservedIps: [] }),
  (s) => ({ ...s, instances: 5 }) as unknown as State,
];

describe('incremental check', () => {
  it('agrees with the full validation on every version of random edit sequences (valid and invalid)', () => {
    let valid = 0;
    let invalid = 0;
    for (let seed = 1; seed <= 60; seed++) {
      const r = rng(seed);
      const check = new IncrementalCheck();
      const good = base();
      let s = good;
      for (let step = 0; step < 40; step++) {
        // Now and then back to a valid version (sharing its objects), so that edits also start from valid ones.
        s = r() < 0.15 ? good : pick(edits, r)(s, r);
        const want = fullValid(s);
        const got = check.check(s);
        if (got !== want) throw new Error(`seed ${seed} step ${step}: incremental ${got}, full ${want}`);
        if (want) valid++;
        else invalid++;
      }
    }
    // Both outcomes are well represented.
    expect(valid).toBeGreaterThan(200);
    expect(invalid).toBeGreaterThan(200);
  });

  it('a version that changed no instance and no host (an authorize) walks neither the instances nor the hosts', () => {
    const check = new IncrementalCheck();
    const s = base();
    let reads = 0;
    const instances = new Proxy(insts(s), {
      get: (t, k, rcv) => (typeof k === 'string' && /^\d+$/.test(k) && reads++, Reflect.get(t, k, rcv)),
    });
    const nodes = new Proxy(s.nodes ?? {}, { ownKeys: (t) => (reads++, Reflect.ownKeys(t)) });
    const first = { ...s, instances, nodes };
    expect(check.check(first)).toBe(true);
    check.index();
    expect(check.check({ ...first, groups: [...(s.groups ?? [])] })).toBe(true);
    reads = 0;
    const g = s.groups?.[0] as Group;
    const authorized = {
      ...first,
      groups: [{ ...g, rules: [...(g.rules ?? []), { protocol: 'tcp' as const, from: 9, cidr: '0.0.0.0/0' }] }, ...(s.groups ?? []).slice(1)],
    };
    expect(check.check(authorized)).toBe(true);
    expect(reads).toBe(0);
    // A new instances list is judged again: an object in it twice, or a copy with a taken address, is refused; taking it away is valid again.
    expect(check.check({ ...authorized, instances: [...insts(s), insts(s)[0]] })).toBe(false);
    expect(check.check({ ...authorized, instances: [...insts(s), { ...insts(s)[0], id: 'i-dup' }] })).toBe(false);
    expect(check.check({ ...authorized, instances: insts(s).slice(1) })).toBe(true);
  });

  it("an authorize checks only the group it changed: the other groups' rules are not read again, yet a rule naming a group that goes is refused", () => {
    const check = new IncrementalCheck();
    const s = base();
    let reads = 0;
    // The unchanged groups as the same objects, their rules counted when read.
    const groups = (s.groups ?? []).map((g) => {
      const rules = g.rules;
      return Object.defineProperty<Group>({ ...g }, 'rules', { enumerable: true, get: () => (reads++, rules) });
    });
    const first = { ...s, groups };
    expect(check.check(first)).toBe(true);
    check.index();
    reads = 0;
    const [a, b, c] = groups;
    const aRules = a.rules ?? [];
    const authorize = (rule: NonNullable<Group['rules']>[number]) => ({ ...first, groups: [{ owner: a.owner, name: a.name, rules: [...aRules, rule] }, b, c] });
    reads = 0;
    expect(check.check(authorize({ protocol: 'tcp', from: 9, cidr: '0.0.0.0/0' }))).toBe(true);
    expect(reads, 'rules of the unchanged groups read').toBe(0);
    // A rule of the changed group naming another group: valid while that group is there, refused once it goes (as the full check judges).
    const named = authorize({ protocol: 'tcp', sourceGroup: `${c.owner}/${c.name}` });
    expect(check.check(named)).toBe(true);
    const gone = { ...named, groups: named.groups.slice(0, 2) };
    expect(fullValid(gone)).toBe(false);
    expect(check.check(gone)).toBe(false);
    // A bad rule in the changed group is refused.
    expect(check.check(authorize({ protocol: 'tcp', from: 9, cidr: '10.0.0.0/33' }))).toBe(false);
    expect(check.check(authorize({ protocol: 'tcp', from: 9, cidr: '0.0.0.0/0' }))).toBe(true);
  });

  it('a state whose objects are all new (a fresh parse) is judged as a whole, again', () => {
    const check = new IncrementalCheck();
    const s = base();
    expect(check.check(s)).toBe(true);
    const again = structuredClone(s);
    again.instances![3].privateIp = again.instances![4].privateIp;
    expect(check.check(again)).toBe(false);
    expect(check.check(structuredClone(s))).toBe(true);
  });

  it("counts a bridge's ports across instances: one over the kernel's limit is refused, and taking it away is valid again", () => {
    const check = new IncrementalCheck();
    const s = base();
    const many = Array.from({ length: MAX_BRIDGE_PORTS - 1 }, (_, k) => ({ id: `m-${k}`, group: 'admin/big', node: 'nc2', port: `m${k}` }));
    const big = allocate({ ...s, addrsPerNet: 2048, groups: [{ owner: 'admin', name: 'big' }], instances: many, reservedIps: [] }) as State;
    expect(check.check(big)).toBe(true);
    const over = {
      ...big,
      instances: [...(big.instances ?? []), { ...big.instances![0], id: 'm-x', port: 'mx', privateIp: '10.1.255.250', mac: 'd0:0d:0a:01:ff:fa' }],
    };
    expect(fullValid(over)).toBe(false);
    expect(check.check(over)).toBe(false);
    expect(check.check(big)).toBe(true);
  });
});
