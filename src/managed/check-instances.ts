// Semantic checks of instances: references, addresses, MACs, ports.
import { ValidationError } from '../errors.js';
import { intToIpv4, parseMac } from '../util/ip.js';
import type { GroupInfo } from './check-groups.js';
import type { NetCtx } from './check-network.js';
import { clustersOf, gatewayInt, type ClusterView } from './clusters.js';
import { checkIfName, Unique } from './fields.js';
import { contains, formatBlock, lastOf, parseIpv4Int } from './net.js';
import { describePool, poolContains } from './pool.js';
import type { Instance, State } from './types.js';

/** Where an instance's values that must be unique across the cloud go: Unique (throws on the second) or a recorder. */
export interface UniqueSink<T> {
  add(key: T, field: string, value: unknown): void;
}

/** The cloud-wide uniqueness checks of instances (keys: ids, node + port, addresses, MACs). */
export interface Seen {
  ids: UniqueSink<string>;
  ports: UniqueSink<string>;
  privateIps: UniqueSink<number>;
  macs: UniqueSink<string>;
  publicIps: UniqueSink<number>;
}

export function checkInstances(s: State, ctx: NetCtx, groups: Map<string, GroupInfo>): void {
  const seen: Seen = {
    ids: new Unique('instance id'),
    ports: new Unique('port on this node'),
    privateIps: new Unique('privateIp'),
    macs: new Unique('mac'),
    publicIps: new Unique('publicIp'),
  };
  const clusters = clustersOf(s);
  (s.instances ?? []).forEach((inst, i) => checkInstance(inst, `instances[${i}]`, { ctx, groups, clusters }, seen));
  // Addresses allocated to the account but not associated with any instance.
  (s.reservedIps ?? []).forEach((ip, i) => checkPublicIp(ip, `reservedIps[${i}]`, ctx, seen));
  checkBridgePorts(s, ctx);
}

/** What one instance's checks depend on besides the instance: the network, the groups, the clusters. */
export interface InstanceEnv {
  ctx: NetCtx;
  groups: Map<string, GroupInfo>;
  clusters: ClusterView[];
}

/**
 * One instance's checks at field path `f` (a schema-valid instance): its
 * group, node, port, addresses and MAC, each value that must be unique
 * handed to `seen` (which throws on a duplicate, or records it).
 */
export function checkInstance(inst: Instance, f: string, env: InstanceEnv, seen: Seen): void {
  const { ctx, groups, clusters } = env;
  seen.ids.add(inst.id, `${f}.id`, inst.id);
  const group = groups.get(inst.group);
  if (!group) {
    const hint = /^[^/]+\/[^/]+$/.test(inst.group) ? 'no such group in groups' : 'expected "owner/name" of a group';
    throw new ValidationError(`${f}.group`, inst.group, hint);
  }
  const node = clusters.find((c) => Object.hasOwn(c.nodes, inst.node))?.nodes[inst.node];
  if (!node) {
    throw new ValidationError(`${f}.node`, inst.node, 'no such node in the cloud');
  }
  if (inst.port !== undefined) checkInstancePort(inst, f, node.privateInterface, seen);
  if (inst.privateIp !== undefined) checkPrivateIp(inst.privateIp, `${f}.privateIp`, ctx, group, seen, clusters);
  if (inst.mac !== undefined) checkMac(inst.mac, `${f}.mac`, seen);
  if (typeof inst.publicIp === 'string') checkPublicIp(inst.publicIp, `${f}.publicIp`, ctx, seen);
}

/** The bridge an instance's port is on: its node's, or its node's bridge of its group. */
export const bridgeOf = (inst: Instance, ctx: NetCtx): string => (ctx.segmentation === 'none' ? inst.node : `${inst.node}\u0000${inst.group}`);

/** The kernel's limit: BR_MAX_PORTS is 1024 and port 0 is reserved (the next gets EXFULL). */
export const MAX_BRIDGE_PORTS = 1023;

/**
 * On a node, a group's bridge (the one bridge, without segmentation) holds a
 * port per instance there plus the uplink (the VLAN or VXLAN device, or the
 * private NIC). The kernel refuses the 1024th port with EXFULL halfway
 * through an apply; refused here first, with the node and group named.
 */
function checkBridgePorts(s: State, ctx: NetCtx): void {
  const count = new Map<string, number>();
  (s.instances ?? []).forEach((inst, i) => {
    const key = bridgeOf(inst, ctx);
    const n = (count.get(key) ?? 0) + 1;
    count.set(key, n);
    if (n + 1 > MAX_BRIDGE_PORTS) {
      const what = ctx.segmentation === 'none' ? 'the bridge of all groups' : `the bridge of group ${inst.group}`;
      throw new ValidationError(
        `instances[${i}].node`,
        inst.node,
        `${what} on this node would need ${n + 1} ports (${n} instances and the uplink); a Linux bridge takes at most ${MAX_BRIDGE_PORTS}`,
      );
    }
  });
}

function checkInstancePort(inst: Instance, f: string, privateInterface: string, seen: Seen): void {
  const port = checkIfName(`${f}.port`, inst.port);
  if (port === privateInterface) {
    throw new ValidationError(`${f}.port`, port, `is the private interface of node ${inst.node}`);
  }
  if (/^eucabr\d+$/.test(port)) throw new ValidationError(`${f}.port`, port, 'is the name of a group bridge');
  seen.ports.add(`${inst.node}\u0000${port}`, `${f}.port`, port);
}

function checkPrivateIp(text: string, field: string, ctx: NetCtx, group: GroupInfo, seen: Seen, clusters: readonly ClusterView[]): void {
  const ip = parseIpv4Int(field, text);
  const b = group.block;
  if (!b) {
    if (!contains(ctx.subnet, ip)) {
      throw new ValidationError(field, text, `is outside the private subnet ${formatBlock(ctx.subnet)}`);
    }
  } else if (!contains(b, ip)) {
    throw new ValidationError(field, text, `is outside the block ${formatBlock(b)} of group ${group.key}`);
  } else if (ip === b.network || ip === lastOf(b)) {
    throw new ValidationError(field, text, `is the ${ip === b.network ? 'network' : 'broadcast'} address of ${formatBlock(b)}`);
  } else {
    const gw = clusters.find((c) => gatewayInt(b, c.index) === ip) ?? (ip === b.network + 1 ? clusters[0] : undefined);
    if (gw) throw new ValidationError(field, text, `is the gateway of ${formatBlock(b)} of cluster ${gw?.name ?? 'default'}'s CC`);
  }
  seen.privateIps.add(ip, field, text);
}

function checkMac(text: string, field: string, seen: Seen): void {
  const b = parseMac(field, text);
  if (b[0] & 1) throw new ValidationError(field, text, 'is a multicast MAC (first byte odd)');
  if (b.every((x) => x === 0)) throw new ValidationError(field, text, 'is the all-zero MAC');
  seen.macs.add(text.toLowerCase(), field, text);
}

export function checkPublicIp(text: string, field: string, ctx: NetCtx, seen: Pick<Seen, 'publicIps'>): void {
  const ip = parseIpv4Int(field, text);
  if (!poolContains(ctx.pool, ip)) {
    const pool = ctx.pool.length ? `the public pool (${describePool(ctx.pool)})` : 'publicIps, which is empty';
    throw new ValidationError(field, text, `${intToIpv4(ip)} is not in ${pool}`);
  }
  seen.publicIps.add(ip, field, text);
}
