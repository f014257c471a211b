// Semantic checks of the hosts: the one-cluster form (cc, nodes) or the
// multi-cluster form (clusters), their interfaces, underlay and tunnel addresses.
import { ValidationError } from '../errors.js';
import { intToIpv4 } from '../util/ip.js';
import { clustersOf } from './clusters.js';
import { checkIfName, Unique } from './fields.js';
import { overlaps, parseHostCidr, parseIpv4Int, reservedOverlap, type Block } from './net.js';
import { poolContains, type PoolRange } from './pool.js';
import type { SegmentationSetting, State } from './types.js';

/** Exactly one form; node names unique across the cloud; tunnel addresses valid and distinct. */
function checkForm(s: State): void {
  if (s.clusters !== undefined) {
    if (s.cc !== undefined) throw new ValidationError('cc', s.cc, 'a state has either cc and nodes (one cluster) or clusters, not both');
    if (s.nodes !== undefined) throw new ValidationError('nodes', s.nodes, 'with clusters, nodes are listed in each cluster (clusters.<name>.nodes)');
  } else if (s.cc === undefined) {
    throw new ValidationError('cc', undefined, 'is required (or clusters, for a cloud of several clusters)');
  }
  const nodes = new Map<string, string>();
  const tunnels = new Unique<number>('tunnelAddress');
  for (const c of clustersOf(s)) {
    for (const n of Object.keys(c.nodes)) {
      const other = nodes.get(n);
      if (other !== undefined) throw new ValidationError(c.nodeField(n), n, `node names are unique across the cloud: ${n} is also in cluster ${other}`);
      nodes.set(n, c.name);
    }
    if (s.clusters !== undefined) {
      const f = `${c.ccField}.tunnelAddress`;
      const ip = parseIpv4Int(f, c.cc.tunnelAddress);
      const reserved = reservedOverlap({ network: ip, prefix: 32, size: 1 });
      if (reserved || ip === 0xffffffff) throw new ValidationError(f, c.cc.tunnelAddress, `is not a unicast address (${reserved ?? 'broadcast'})`);
      tunnels.add(ip, f, c.cc.tunnelAddress);
    }
  }
}

/** Interfaces of the CCs and nodes, and their underlay addresses. */
export function checkHosts(s: State, seg: SegmentationSetting, subnet: Block, pool: PoolRange[]): void {
  checkForm(s);
  const hosts: Array<[string, { privateInterface: string; underlay?: string }]> = [];
  for (const c of clustersOf(s)) {
    checkIfName(`${c.ccField}.publicInterface`, c.cc.publicInterface);
    checkIfName(`${c.ccField}.privateInterface`, c.cc.privateInterface);
    if (c.cc.publicInterface === c.cc.privateInterface) {
      throw new ValidationError(`${c.ccField}.privateInterface`, c.cc.privateInterface, `is also ${c.ccField}.publicInterface`);
    }
    if (c.cc.tunnelAddress !== undefined && subnetHas(subnet, c.cc.tunnelAddress)) {
      throw new ValidationError(`${c.ccField}.tunnelAddress`, c.cc.tunnelAddress, 'is inside the private subnet');
    }
    hosts.push([c.ccField, c.cc]);
    for (const [name, node] of Object.entries(c.nodes)) {
      checkIfName(c.nodeField(name, 'privateInterface'), node.privateInterface);
      hosts.push([c.nodeField(name), node]);
    }
  }
  const addrs = new Unique<number>('underlay address');
  for (const [path, h] of hosts) {
    const field = `${path}.underlay`;
    if (h.underlay === undefined) {
      if (seg === 'vxlan') {
        throw new ValidationError(field, undefined, "segmentation vxlan needs an underlay address (address/prefix) on each host's private NIC");
      }
      continue;
    }
    const u = parseHostCidr(field, h.underlay);
    addrs.add(u.ip, field, h.underlay);
    if (overlaps(u.block, subnet)) throw new ValidationError(field, h.underlay, `overlaps the private subnet ${s.subnet}`);
    if (poolContains(pool, u.ip)) throw new ValidationError(field, h.underlay, `${intToIpv4(u.ip)} is in the public pool`);
    const reserved = reservedOverlap(u.block);
    if (reserved) throw new ValidationError(field, h.underlay, `overlaps ${reserved}`);
  }
}

function subnetHas(subnet: Block, text: string): boolean {
  const ip = parseIpv4Int('tunnelAddress', text);
  return ip >= subnet.network && ip < subnet.network + subnet.size;
}
