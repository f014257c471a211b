// The small random clouds the relevance, peer-change, CC and NC instance-change
// property tests build: fixed settings, groups and instances drawn per case,
// and random edits of them (instances, public addresses, a rule, a setting).
import type { State } from '../../src/managed/types.js';
import type { FdbSpec } from '../../src/rtnl/fdb.js';

/** A cloud's network settings for `nodes` (each on its own underlay address), without mode, groups or instances. */
export function cloudSettings(nodes: readonly string[]): Pick<State, 'subnet' | 'addrsPerNet' | 'publicIps' | 'dns' | 'cc' | 'nodes'> {
  return {
    subnet: '10.1.0.0/16',
    addrsPerNet: 32,
    publicIps: ['192.168.32.200-192.168.32.220'],
    dns: '192.168.32.1',
    cc: { publicInterface: 'eth0', privateInterface: 'eth1', underlay: '10.0.0.1/24' },
    nodes: Object.fromEntries(nodes.map((n, k) => [n, { privateInterface: 'eth0', underlay: `10.0.0.${11 + k}/24` }])),
  };
}

/**
 * The vitest timeout of a property test of `cases` random cases. Its time is
 * the work: about 2 to 5 ms a case unloaded, 20 ms with two busy loops and
 * other tests on this 2-core machine (the relevance test's 2000 cases took
 * 39 s then, near the 60 s default it crossed in CI). So the timeout grows
 * with the count: 100 ms a case, five times that loaded cost.
 */
export const propertyTimeout = (cases: number): number => Math.max(60_000, cases * 100);

export const NODES = ['n0', 'n1', 'n2', 'n3'];
export const GROUPS = ['a', 'b', 'c'];
let serial = 0;
let pub = 0;

export const pickOf = <T>(xs: readonly T[], r: () => number): T => xs[Math.floor(r() * xs.length)];

/** A cloud of 3 to 12 instances in GROUPS over NODES; VXLAN mostly (sometimes multicast flooding), else VLAN or no segmentation. */
export function randomCloud(r: () => number): State {
  const groups = GROUPS.map((name) => ({ owner: 'u', name, rules: [{ protocol: 'tcp' as const, from: 22, cidr: '0.0.0.0/0' }] }));
  const instances = Array.from({ length: 3 + Math.floor(r() * 10) }, () => ({
    id: `i-${serial++}`,
    group: `u/${GROUPS[Math.floor(r() * 3)]}`,
    node: NODES[Math.floor(r() * NODES.length)],
  }));
  const seg = r();
  return {
    mode: 'MANAGED',
    segmentation: seg < 0.7 ? 'vxlan' : seg < 0.9 ? 'vlan' : 'none',
    ...(r() < 0.1 ? { vxlanFlood: 'multicast' as const } : {}),
    ...(r() < 0.5 ? { vxlanMacs: 'static' as const } : {}),
    ...cloudSettings(NODES),
    groups,
    instances,
  };
}

export type Edit = (s: State, r: () => number) => void;
const newInstance = (r: () => number, node = pickOf(NODES, r)) => ({ id: `i-${serial++}`, group: `u/${pickOf(GROUPS, r)}`, node });
const publicIp = () => `192.168.32.${200 + (pub++ % 20)}`;

/** Edits of the instances (some several at once, some in the middle, some on node n0), of public addresses, of a rule, of a setting. */
export const EDITS: Record<string, Edit> = {
  run: (s, r) => s.instances?.push(newInstance(r)),
  runTwo: (s, r) => {
    EDITS.run(s, r);
    EDITS.run(s, r);
  },
  runFirst: (s, r) => s.instances?.unshift(newInstance(r)),
  runPublic: (s, r) => s.instances?.push({ ...newInstance(r), publicIp: publicIp() }),
  runN0: (s, r) => s.instances?.push(newInstance(r, 'n0')),
  terminate: (s, r) => s.instances?.splice(Math.floor(r() * (s.instances?.length ?? 0)), 1),
  terminateTwo: (s, r) => {
    EDITS.terminate(s, r);
    EDITS.terminate(s, r);
  },
  terminateN0: (s, r) => {
    const mine = (s.instances ?? []).filter((i) => i.node === 'n0');
    if (mine.length) s.instances?.splice(s.instances.indexOf(pickOf(mine, r)), 1);
  },
  move: (s, r) => {
    const i = pickOf(s.instances ?? [], r);
    if (i) Object.assign(i, { node: pickOf(NODES, r), port: undefined });
  },
  regroup: (s, r) => {
    const i = pickOf(s.instances ?? [], r);
    if (i) Object.assign(i, { group: `u/${pickOf(GROUPS, r)}`, privateIp: undefined, port: undefined });
  },
  associate: (s, r) => {
    const i = pickOf(s.instances ?? [], r);
    if (i) i.publicIp = publicIp();
  },
  swap: (s, r) => {
    const n = s.instances?.length ?? 0;
    const [x, y] = [Math.floor(r() * n), Math.floor(r() * n)];
    if (s.instances && n) [s.instances[x], s.instances[y]] = [s.instances[y], s.instances[x]];
  },
  authorize: (s, r) => pickOf(s.groups ?? [], r)?.rules?.push({ protocol: 'tcp', from: 1000 + serial++, cidr: '0.0.0.0/0' }),
  dns: (s) => {
    s.dns = '192.168.32.2';
  },
};

/** An FDB entry as the tests compare them (device, MAC, destination), a list's keys, and what one set has that another lacks (sorted). */
export const fdbKey = (f: FdbSpec) => `${String(f.dev)}|${f.lladdr}|${f.dst ?? ''}`;
export const fdbKeys = (fs: readonly FdbSpec[] | undefined) => new Set((fs ?? []).map(fdbKey));
export const minus = (a: Set<string>, b: Set<string>) => [...a].filter((k) => !b.has(k)).sort();
