// Semantic checks of the network settings: what the JSON Schema cannot say.
import { ValidationError } from '../errors.js';
import { checkHosts } from './check-clusters.js';
import { checkVlanNumber } from './fields.js';
import { contains, formatBlock, parseBlock, parseIpv4Int, reservedOverlap, type Block } from './net.js';
import { parsePool, poolOverlap, type PoolRange } from './pool.js';
import { DEFAULT_MAC_PREFIX, DEFAULT_VLAN_RANGE, defaultSegmentation, type SegmentationSetting, type State } from './types.js';

/** The checked network settings, with defaults resolved, for the later checks and allocation. */
export interface NetCtx {
  segmentation: SegmentationSetting;
  subnet: Block;
  addrsPerNet: number;
  /** Prefix length of a group block (27 for 32 addresses). */
  blockPrefix: number;
  vlanRange: [number, number];
  pool: PoolRange[];
  macPrefix: Uint8Array;
}

export function checkNetwork(s: State): NetCtx {
  const segmentation = checkSegmentation(s);
  const subnet = parseBlock('subnet', s.subnet, { requirePrefix: true });
  const reserved = reservedOverlap(subnet);
  if (reserved) throw new ValidationError('subnet', s.subnet, `overlaps ${reserved}`);
  const addrsPerNet = checkAddrsPerNet(s, subnet);
  const vlanRange = checkVlanRange(s);
  const pool = parsePool(s.publicIps ?? []);
  const clash = poolOverlap(pool, subnet);
  if (clash !== undefined) {
    throw new ValidationError(`publicIps[${clash}]`, (s.publicIps ?? [])[clash], `overlaps the private subnet ${s.subnet}`);
  }
  if (s.dns !== undefined) parseIpv4Int('dns', s.dns);
  if (s.metadata !== undefined) checkMetadata(s.metadata, subnet);
  const macPrefix = checkMacPrefix(s.macPrefix ?? DEFAULT_MAC_PREFIX);
  checkHosts(s, segmentation, subnet, pool);
  return { segmentation, subnet, addrsPerNet, blockPrefix: 32 - Math.log2(addrsPerNet), vlanRange, pool, macPrefix };
}

function checkSegmentation(s: State): SegmentationSetting {
  const seg = s.segmentation ?? defaultSegmentation(s.mode);
  if (s.mode === 'MANAGED-NOVLAN' && seg !== 'none') {
    throw new ValidationError('segmentation', seg, 'MANAGED-NOVLAN has no per-group segments: use "none" (or mode MANAGED)');
  }
  if (s.mode === 'MANAGED' && seg === 'none') {
    throw new ValidationError('segmentation', seg, 'MANAGED isolates groups by vlan or vxlan; "none" is mode MANAGED-NOVLAN');
  }
  return seg;
}

function checkAddrsPerNet(s: State, subnet: Block): number {
  const n = s.addrsPerNet;
  if (!Number.isInteger(n) || n < 16 || n > 2048 || (n & (n - 1)) !== 0) {
    throw new ValidationError('addrsPerNet', n, 'must be a power of two from 16 to 2048');
  }
  if (subnet.size < n) {
    throw new ValidationError('addrsPerNet', n, `subnet ${s.subnet} holds only ${subnet.size} addresses`);
  }
  return n;
}

function checkVlanRange(s: State): [number, number] {
  const r = s.vlanRange ?? DEFAULT_VLAN_RANGE;
  checkVlanNumber('vlanRange[0]', r[0]);
  checkVlanNumber('vlanRange[1]', r[1]);
  if (r[1] < r[0]) throw new ValidationError('vlanRange', r, 'last VLAN is below the first');
  return [r[0], r[1]];
}

function checkMetadata(text: string, subnet: Block): void {
  const m = /^([0-9.]+):(\d{1,5})$/.exec(text);
  if (!m || +m[2] < 1 || +m[2] > 65535) {
    throw new ValidationError('metadata', text, 'expected "ip:port" like 192.168.32.10:8773');
  }
  const ip = parseIpv4Int('metadata', m[1]);
  if (contains(subnet, ip)) {
    throw new ValidationError('metadata', text, `is inside the private subnet ${formatBlock(subnet)}`);
  }
}

function checkMacPrefix(text: string): Uint8Array {
  if (!/^[0-9a-fA-F]{2}:[0-9a-fA-F]{2}$/.test(text)) {
    throw new ValidationError('macPrefix', text, 'expected two bytes like "d0:0d"');
  }
  const bytes = Uint8Array.from(text.split(':').map((h) => parseInt(h, 16)));
  if (bytes[0] & 1) throw new ValidationError('macPrefix', text, 'is a multicast prefix (first byte odd)');
  return bytes;
}
