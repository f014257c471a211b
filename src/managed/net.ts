// IPv4 blocks as integers, for validation and allocation arithmetic. The
// MANAGED model is IPv4 only, as Eucalyptus was.
import { ValidationError } from '../errors.js';
import { intToIpv4, ipv4Number, ipv4ToInt, isNetworkAddress, parseCidr } from '../util/ip.js';

/** An IPv4 network: first address as an unsigned integer, and its prefix. */
export interface Block {
  network: number;
  prefix: number;
  /** Number of addresses, 2^(32 - prefix). */
  size: number;
}

export function blockOf(network: number, prefix: number): Block {
  return { network, prefix, size: 2 ** (32 - prefix) };
}

export const lastOf = (b: Block): number => b.network + b.size - 1;
export const contains = (b: Block, ip: number): boolean => ip >= b.network && ip <= lastOf(b);
export const overlaps = (a: Block, b: Block): boolean => a.network <= lastOf(b) && b.network <= lastOf(a);
export const formatBlock = (b: Block): string => `${intToIpv4(b.network)}/${b.prefix}`;

export function parseIpv4Int(field: string, text: unknown): number {
  // One pass over the text (ipFamily() is 4 exactly when ipv4Number() is not -1).
  const v = typeof text === 'string' ? ipv4Number(text) : -1;
  if (v < 0) throw new ValidationError(field, text, 'expected an IPv4 address like 10.1.2.2');
  return v;
}

/**
 * Parses an IPv4 CIDR that must be a network address ("10.1.0.0/16", not
 * "10.1.0.1/16"). A bare address is a /32 unless `requirePrefix`.
 */
export function parseBlock(field: string, text: unknown, opts: { requirePrefix?: boolean } = {}): Block {
  const c = parseCidr(field, text, opts);
  if (c.family !== 4) throw new ValidationError(field, text, 'expected an IPv4 CIDR like 10.1.0.0/16');
  if (!isNetworkAddress(c)) {
    throw new ValidationError(field, text, `host bits set: the network address is ${networkText(c)}`);
  }
  return blockOf(ipv4ToInt(c.address), c.prefix);
}

function networkText(c: { address: string; prefix: number }): string {
  const n = ipv4ToInt(c.address);
  const mask = c.prefix === 0 ? 0 : (0xffffffff << (32 - c.prefix)) >>> 0;
  return `${intToIpv4((n & mask) >>> 0)}/${c.prefix}`;
}

/** An interface address "10.0.0.1/24": a host address with its prefix. */
export function parseHostCidr(field: string, text: unknown): { ip: number; block: Block } {
  const c = parseCidr(field, text, { requirePrefix: true });
  if (c.family !== 4) throw new ValidationError(field, text, 'expected an IPv4 address/prefix like 10.0.0.1/24');
  const ip = ipv4ToInt(c.address);
  const mask = c.prefix === 0 ? 0 : (0xffffffff << (32 - c.prefix)) >>> 0;
  const block = blockOf((ip & mask) >>> 0, c.prefix);
  if (c.prefix < 31 && (ip === block.network || ip === lastOf(block))) {
    throw new ValidationError(field, text, 'is the network or broadcast address of its prefix');
  }
  return { ip, block };
}

/** Networks that are never private subnets nor public addresses. */
export const RESERVED: ReadonlyArray<{ block: Block; what: string }> = [
  { block: blockOf(0, 8), what: '0.0.0.0/8 ("this network")' },
  { block: blockOf(0x7f000000, 8), what: '127.0.0.0/8 (loopback)' },
  { block: blockOf(0xa9fe0000, 16), what: '169.254.0.0/16 (link-local, where the metadata address lives)' },
  { block: blockOf(0xe0000000, 3), what: '224.0.0.0/3 (multicast and reserved)' },
];

/** Reserved network overlapping b (any span: only network and size are used). */
export function reservedOverlap(b: Block): string | undefined {
  return RESERVED.find((r) => overlaps(r.block, b))?.what;
}

/** What instances of a group see: its block, gateway and broadcast. */
export interface GroupNet {
  /** "10.1.2.0/27" */
  cidr: string;
  network: string;
  prefix: number;
  /** "255.255.255.224" */
  netmask: string;
  /** block + 1, on the CC's group bridge; the instances' default route. */
  gateway: string;
  broadcast: string;
  /** First and last addresses instances may hold (block + 2 .. broadcast - 1). */
  firstHost: string;
  lastHost: string;
}

export function describeBlock(b: Block): GroupNet {
  const mask = b.prefix === 0 ? 0 : (0xffffffff << (32 - b.prefix)) >>> 0;
  return {
    cidr: formatBlock(b),
    network: intToIpv4(b.network),
    prefix: b.prefix,
    netmask: intToIpv4(mask),
    gateway: intToIpv4(b.network + 1),
    broadcast: intToIpv4(lastOf(b)),
    firstHost: intToIpv4(b.network + 2),
    lastHost: intToIpv4(lastOf(b) - 1),
  };
}

/** The network of an allocated group ({ subnet: "10.1.2.0/27" }). */
export function groupNet(g: { subnet: string }): GroupNet {
  return describeBlock(parseBlock('subnet', g.subnet, { requirePrefix: true }));
}

/**
 * Eucalyptus' block for a network index. net/vnetwork.c (1.6 through 4.x),
 * vnetInit(): `numaddrs -= 1; unw = nw; for (vlan = 2; vlan < max_vlan; vlan++) {
 * networks[vlan].nw = unw; ...; unw += numaddrs + 1; }`, so index 2 holds the first
 * block and index v holds subnet + (v - 2) * addrsPerNet. Indexes 0 and 1 have
 * no block. Undefined when the block falls outside the subnet.
 */
export function eucalyptusBlock(subnet: Block, addrsPerNet: number, vlan: number): Block | undefined {
  if (vlan < 2) return undefined;
  const network = subnet.network + (vlan - 2) * addrsPerNet;
  const b = blockOf(network, 32 - Math.log2(addrsPerNet));
  return lastOf(b) <= lastOf(subnet) ? b : undefined;
}
