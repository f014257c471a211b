// Allocation: fills in what the desired state leaves out, deterministically.
//
// Values given explicitly are kept. Missing ones are taken in document order,
// lowest free first, after every explicit value has been reserved; so running
// allocate() on its own output changes nothing, and appending an instance or a
// group never moves another.
//
// - VLAN: the lowest number in vlanRange not held by another group.
// - Subnet block (addrsPerNet addresses, gateway at block + 1): Eucalyptus'
//   block for the VLAN, subnet + (vlan - 2) * addrsPerNet (net/vnetwork.c; see
//   eucalyptusBlock), when it lies inside the subnet and is free; otherwise the
//   lowest free block. The seed article's own numbers (VLAN 10 with
//   10.1.2.0/27 in 10.1.0.0/16, addrsPerNet 32) follow no formula Eucalyptus
//   ever had: its rule gives VLAN 10 the block 10.1.1.0/27, and 10.1.2.0 is
//   block 16, which is Eucalyptus' block of VLAN 18. So examples/seed.json gives
//   that group its block explicitly, as any state may.
// - Port: the lowest free "vnetN" on the instance's node.
// - Private IP: the lowest free address of the group block from block + 2,
//   never the network, gateway or broadcast address. With N clusters the
//   gateways are block + 1 .. block + N (clusters.ts) and instances start at
//   block + N + 1.
// - MAC: macPrefix + the four bytes of the private IP (d0:0d:0a:01:02:02 for 10.1.2.2).
// - Public IP (publicIp: true): the lowest free address of the pool, entries in
//   the order given. publicIp false or absent: none.
//
// Exhaustion of any pool is a ValidationError naming the pool.
import { ValidationError } from '../errors.js';
import { formatMac, intToIpv4, ipv4ToInt } from '../util/ip.js';
import { clustersOf, firstHostInt } from './clusters.js';
import { checkState } from './validate.js';
import { checkNetwork, type NetCtx } from './check-network.js';
import { blockOf, eucalyptusBlock, formatBlock, lastOf, parseBlock } from './net.js';
import { describePool, poolSize, type PoolRange } from './pool.js';
import {
  DEFAULT_VLAN_RANGE,
  groupKey,
  type AllocatedGroup,
  type AllocatedInstance,
  type AllocatedState,
  type Group,
  type Instance,
  type Rule,
  type State,
} from './types.js';
import { must } from '../util/must.js';

interface Draft extends Omit<AllocatedState, 'groups' | 'instances'> {
  groups: Array<Group & { rules: Rule[] }>;
  instances: Instance[];
}

export interface AllocateOptions {
  /**
   * The caller has just validated `input` (validateState, a store's read,
   * whose contract is a validated state): it is not checked again.
   */
  validated?: boolean;
}

/** True when nothing is left to allocate: every group has its VLAN and block, every instance its port, address and MAC. */
export function fullyAllocated(s: State): boolean {
  return (
    (s.groups ?? []).every((g) => g.vlan !== undefined && g.subnet !== undefined) &&
    (s.instances ?? []).every((i) => i.port !== undefined && i.privateIp !== undefined && i.mac !== undefined && i.publicIp !== true)
  );
}

/**
 * Validates `input` (unless `opts.validated`), fills every missing allocation,
 * and returns a new state. A state with nothing to allocate is not checked
 * again after: its values are the ones just checked, with defaults resolved.
 */
export function allocate(input: unknown, opts: AllocateOptions = {}): AllocatedState {
  if (opts.validated && fullyAllocated(input as State)) return resolved(input as State);
  const doc = structuredClone(input);
  const { state, net } = opts.validated ? { state: doc as State, net: checkNetwork(doc as State) } : checkState(doc);
  const full = fullyAllocated(state);
  const s = resolve(state, net);
  allocateVlans(s, net);
  allocateBlocks(s, net);
  allocatePorts(s);
  allocatePrivateIps(s);
  allocateMacs(s, net);
  allocatePublicIps(s, net);
  s.groups = s.groups.map((g) => ({ ...canonicalGroup(g), rules: g.rules }));
  s.instances = s.instances.map(canonicalInstance);
  if (!full) checkState(s); // every allocation passes the same checks as explicit values
  return s as AllocatedState;
}

/**
 * Each group's and instance's canonical form (allocate's output for an
 * object with nothing left to allocate), kept per object: a store that hands
 * unchanged objects over again (the etcd store's cache) gets the same
 * canonical objects back, so an allocated state costs nothing per unchanged
 * object. They are shared between states: callers never change them.
 */
const canonical = new WeakMap<object, object>();

/** `o`'s canonical form, made once per object by `make`. */
export function memo<T extends object, C extends object>(o: T, make: (o: T) => C): C {
  let c = canonical.get(o) as C | undefined;
  if (!c) canonical.set(o, (c = make(o)));
  return c;
}

/** A group and an instance as allocation hands them over (canonical, lists resolved): the same hidden classes for code that reads them. */
export const canonicalOf = {
  group: (g: Group): AllocatedGroup => ({ ...canonicalGroup(g), rules: g.rules ?? [] }) as AllocatedGroup,
  instance: (i: Instance): AllocatedInstance => {
    const c = canonicalInstance(i);
    if (c.publicIp === false) delete c.publicIp;
    return c as AllocatedInstance;
  },
};

/** A validated state with nothing to allocate: its defaults resolved, no copy of what is already canonical. */
function resolved(st: State): AllocatedState {
  // Keys in resolve's order: its lists replaced in place.
  const out = resolve({ ...st, groups: [], instances: [] }, checkNetwork(st)) as unknown as AllocatedState;
  out.groups = (st.groups ?? []).map((g) => memo(g, canonicalOf.group));
  out.instances = (st.instances ?? []).map((i) => memo(i, canonicalOf.instance));
  return out;
}

/** A copy with defaults resolved and keys in the schema's order. */
function resolve(st: State, net: NetCtx): Draft {
  const out: Draft = {
    ...(st.$schema !== undefined ? { $schema: st.$schema } : {}),
    mode: st.mode,
    segmentation: net.segmentation,
    ...(st.vxlanFlood !== undefined ? { vxlanFlood: st.vxlanFlood } : {}),
    ...(st.vxlanMacs !== undefined ? { vxlanMacs: st.vxlanMacs } : {}),
    subnet: st.subnet,
    addrsPerNet: st.addrsPerNet,
    vlanRange: st.vlanRange ?? [...DEFAULT_VLAN_RANGE],
    publicIps: st.publicIps ?? [],
    ...(st.dns !== undefined ? { dns: st.dns } : {}),
    ...(st.metadata !== undefined ? { metadata: st.metadata } : {}),
    macPrefix: formatMac(net.macPrefix),
    ...(st.clusters !== undefined ? { clusters: st.clusters } : { cc: st.cc, nodes: st.nodes ?? {} }),
    groups: (st.groups ?? []).map((g) => ({ ...canonicalGroup(g), rules: g.rules ?? [] })),
    instances: (st.instances ?? []).map(canonicalInstance),
    ...(st.reservedIps !== undefined ? { reservedIps: [...st.reservedIps] } : {}),
  };
  for (const inst of out.instances) if (inst.publicIp === false) delete inst.publicIp;
  return out;
}

/** The group's keys in the schema's order (the allocated ones filled in place). */
export function canonicalGroup<G extends Group>(g: G): Group {
  return defined({ owner: g.owner, name: g.name, vlan: g.vlan, subnet: g.subnet, rules: g.rules });
}

export function canonicalInstance<I extends Instance>(i: I): Instance {
  const { id, group, node, port, privateIp, mac, publicIp } = i;
  return defined({ id, group, node, port, privateIp, mac, publicIp });
}

function defined<T extends object>(o: T): T {
  for (const k of Object.keys(o) as Array<keyof T>) if (o[k] === undefined) delete o[k];
  return o;
}

function allocateVlans(s: Draft, net: NetCtx): void {
  const [lo, hi] = net.vlanRange;
  const used = new Set(s.groups.flatMap((g) => (g.vlan === undefined ? [] : [g.vlan])));
  let next = lo;
  s.groups.forEach((g, i) => {
    if (g.vlan !== undefined) return;
    while (next <= hi && used.has(next)) next++;
    if (next > hi) {
      throw new ValidationError(`groups[${i}]`, groupKey(g), `VLAN pool exhausted: every VLAN of vlanRange ${lo}-${hi} is taken`);
    }
    g.vlan = next;
    used.add(next);
  });
}

function allocateBlocks(s: Draft, net: NetCtx): void {
  const taken = new Set<number>();
  for (const g of s.groups) if (g.subnet !== undefined) taken.add(parseBlock('subnet', g.subnet).network);
  const count = net.subnet.size / net.addrsPerNet;
  let next = 0;
  s.groups.forEach((g, i) => {
    if (g.subnet !== undefined) return;
    let b = eucalyptusBlock(net.subnet, net.addrsPerNet, must(g.vlan, `groups[${i}].vlan`));
    if (!b || taken.has(b.network)) {
      while (next < count && taken.has(net.subnet.network + next * net.addrsPerNet)) next++;
      if (next >= count) {
        throw new ValidationError(
          `groups[${i}]`,
          groupKey(g),
          `subnet block pool exhausted: all ${count} blocks of ${net.addrsPerNet} addresses in ${formatBlock(net.subnet)} are taken`,
        );
      }
      b = blockOf(net.subnet.network + next * net.addrsPerNet, net.blockPrefix);
    }
    taken.add(b.network);
    g.subnet = formatBlock(b);
  });
}

function allocatePorts(s: Draft): void {
  const used = new Map<string, Set<string>>();
  const on = (node: string) => {
    let ports = used.get(node);
    if (!ports) used.set(node, (ports = new Set()));
    return ports;
  };
  for (const inst of s.instances) if (inst.port !== undefined) on(inst.node).add(inst.port);
  const next = new Map<string, number>();
  for (const inst of s.instances) {
    if (inst.port !== undefined) continue;
    const ports = on(inst.node);
    let n = next.get(inst.node) ?? 0;
    while (ports.has(`vnet${n}`)) n++;
    inst.port = `vnet${n}`;
    ports.add(inst.port);
    next.set(inst.node, n + 1);
  }
}

function allocatePrivateIps(s: Draft): void {
  const blocks = new Map(s.groups.map((g) => [groupKey(g), parseBlock('subnet', g.subnet)]));
  const used = new Set(s.instances.flatMap((i) => (i.privateIp === undefined ? [] : [ipv4ToInt(i.privateIp)])));
  s.instances.forEach((inst, i) => {
    if (inst.privateIp !== undefined) return;
    const b = must(blocks.get(inst.group), `the block of group ${inst.group}`);
    let ip = firstHostInt(b, clustersOf(s).length);
    while (ip < lastOf(b) && used.has(ip)) ip++;
    if (ip >= lastOf(b)) {
      throw new ValidationError(
        `instances[${i}]`,
        inst.id,
        `address pool of group ${inst.group} (${formatBlock(b)}) exhausted: all ${b.size - 3} instance addresses are taken`,
      );
    }
    inst.privateIp = intToIpv4(ip);
    used.add(ip);
  });
}

function allocateMacs(s: Draft, net: NetCtx): void {
  for (const inst of s.instances) {
    if (inst.mac !== undefined) continue;
    const ip = ipv4ToInt(must(inst.privateIp, `the privateIp of instance ${inst.id}`));
    inst.mac = formatMac(Uint8Array.of(net.macPrefix[0], net.macPrefix[1], ip >>> 24, (ip >>> 16) & 255, (ip >>> 8) & 255, ip & 255));
  }
}

/** Public addresses in use: associated with an instance, or allocated and kept (reservedIps). */
function usedPublicIps(s: Pick<State, 'instances' | 'reservedIps'>): Set<number> {
  const used = new Set((s.instances ?? []).flatMap((i) => (typeof i.publicIp === 'string' ? [ipv4ToInt(i.publicIp)] : [])));
  for (const ip of s.reservedIps ?? []) used.add(ipv4ToInt(ip));
  return used;
}

/** The address allocate-address would hand out next: the lowest free one of the pool. */
export function nextPublicIp(input: State): string {
  const { state, net } = checkState(structuredClone(input));
  const next = freeAddresses(net.pool, usedPublicIps(state)).next();
  if (next.done) throw new ValidationError('publicIps', input.publicIps ?? [], 'public IP pool exhausted');
  return intToIpv4(next.value);
}

function allocatePublicIps(s: Draft, net: NetCtx): void {
  const free = freeAddresses(net.pool, usedPublicIps(s));
  s.instances.forEach((inst, i) => {
    if (inst.publicIp !== true) return;
    const next = free.next();
    if (next.done) {
      const pool = net.pool.length ? `all ${poolSize(net.pool)} addresses of publicIps (${describePool(net.pool)}) are taken` : 'publicIps is empty';
      throw new ValidationError(`instances[${i}].publicIp`, true, `public IP pool exhausted: ${pool}`);
    }
    inst.publicIp = intToIpv4(next.value);
  });
}

/** Free pool addresses, lowest first within each entry, entries in order. */
function* freeAddresses(pool: readonly PoolRange[], used: ReadonlySet<number>): Generator<number> {
  for (const r of pool) for (let ip = r.start; ip <= r.end; ip++) if (!used.has(ip)) yield ip;
}
