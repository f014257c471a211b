// Checks DHCP networks before anything is written or signalled. Every refusal
// is a ValidationError naming the field ("networks[0].hosts[1].mac") and value.
import { ValidationError } from '../errors.js';
import { intToIpv4, ipv4Number, ipv4ToInt, isNetworkAddress, parseCidr, parseMac } from '../util/ip.js';
import { DEFAULT_LEASE_TIME, type NormalizedNetwork } from './types.js';

/** What dnsmasq's config may carry safely: no commas, spaces, '#' or newlines. */
const IFNAME_RE = /^[A-Za-z0-9_.-]{1,15}$/;
/** One DNS label (RFC 1123): the hostname dnsmasq sends as option 12. */
const LABEL_RE = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/**
 * Why dnsmasq would not read `name` as a hostname in a dhcp-hostsfile line, or
 * undefined. dnsmasq (option.c, dhcp-host) reads each comma-separated field by
 * its shape: "ignore" disables the host, "infinite" is a lease time, and so are
 * digits with an optional w/d/h/m/s suffix ("3600", "60m"); its hostnames are
 * otherwise DNS labels. No quoting changes that (quotes are removed before the
 * fields are read), so such names are refused.
 */
export function dhcpHostnameProblem(name: string): string | undefined {
  if (!LABEL_RE.test(name)) return 'must be one DNS label: letters, digits and "-", 1-63 characters';
  const lower = name.toLowerCase();
  if (lower === 'ignore') return 'dnsmasq reads "ignore" in a hosts line as "ignore this host", not as a hostname';
  if (lower === 'infinite') return 'dnsmasq reads "infinite" in a hosts line as the lease time, not as a hostname';
  if (/^[0-9]+[wdhms]?$/.test(lower)) return 'dnsmasq reads digits (with an optional w/d/h/m/s suffix) in a hosts line as a lease time, not as a hostname';
  return undefined;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function ipv4(field: string, v: unknown): number {
  // One pass over the text (ipFamily() is 4 exactly when ipv4Number() is not -1).
  const n = typeof v === 'string' ? ipv4Number(v) : -1;
  if (n < 0) throw new ValidationError(field, v, 'expected an IPv4 address like 10.1.2.2');
  return n;
}

interface Block {
  network: number;
  prefix: number;
  last: number;
}

function subnetOf(field: string, v: unknown): Block {
  const c = parseCidr(field, v, { requirePrefix: true });
  if (c.family !== 4) throw new ValidationError(field, v, 'expected an IPv4 network like 10.1.2.0/27');
  if (!isNetworkAddress(c)) throw new ValidationError(field, v, 'host bits set: give the network address');
  if (c.prefix < 1 || c.prefix > 30) throw new ValidationError(field, v, 'prefix length must be 1-30 (room for a gateway and hosts)');
  const network = ipv4ToInt(c.address);
  return { network, prefix: c.prefix, last: network + 2 ** (32 - c.prefix) - 1 };
}

/** An address that may be handed to a host or router: inside, not network nor broadcast. */
function hostIn(field: string | (() => string), v: unknown, b: Block, subnet: string): number {
  // The field path is made only for an error (a host's is a function: thousands of hosts).
  const n = typeof v === 'string' ? ipv4Number(v) : -1;
  const problem =
    n < 0
      ? 'expected an IPv4 address like 10.1.2.2'
      : n < b.network || n > b.last
        ? `not inside the subnet ${subnet}`
        : n === b.network
          ? `is the network address of ${subnet}`
          : n === b.last
            ? `is the broadcast address of ${subnet}`
            : undefined;
  if (problem !== undefined) throw new ValidationError(typeof field === 'string' ? field : field(), v, problem);
  return n;
}

function leaseTimeOf(field: string, v: unknown): number | 'infinite' {
  if (v === undefined) return DEFAULT_LEASE_TIME;
  if (v === 'infinite') return v;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 120 || v > 0x7fffffff) {
    throw new ValidationError(field, v, 'must be a whole number of seconds, at least 120 (dnsmasq minimum), or "infinite"');
  }
  return v;
}

/**
 * First-seen values of one kind, across every network: each kept with the
 * host's field path (`networks[0].hosts[1]`), the kind's own field (`.mac`)
 * joined to it only in an error (a cold apply checks thousands of hosts).
 */
class Seen {
  private readonly at = new Map<string | number, string>();
  constructor(
    private readonly what: string,
    private readonly suffix: string,
  ) {}
  add(key: string | number, host: string, value: unknown): void {
    const prev = this.at.get(key);
    if (prev !== undefined) {
      const nocase = this.what === 'hostname' ? ' (dnsmasq compares hostnames without case)' : '';
      throw new ValidationError(`${host}${this.suffix}`, value, `duplicate ${this.what}${nocase}: also at ${prev}${this.suffix}`);
    }
    this.at.set(key, host);
  }
}

interface Ctx {
  macs: Seen;
  ips: Seen;
  names: Seen;
}

/** The host `i` of the network at field path `net`: its field path, made only for an error or a first sighting. */
const hostField = (net: string, i: number): string => `${net}.hosts[${i}]`;

function normalizeHost(h: unknown, net: string, i: number, b: Block, subnet: string, gateway: number, ctx: Ctx) {
  if (!isObject(h)) throw new ValidationError(hostField(net, i), h, 'expected a host object { mac, ip, hostname? }');
  const mac = macOf(h.mac, net, i);
  const ip = hostIn(() => `${hostField(net, i)}.ip`, h.ip, b, subnet);
  if (ip === gateway) throw new ValidationError(`${hostField(net, i)}.ip`, h.ip, 'is the gateway address');
  const f = hostField(net, i);
  ctx.macs.add(mac, f, h.mac);
  ctx.ips.add(ip, f, h.ip);
  const out: { mac: string; ip: string; hostname?: string; n: number } = { mac, ip: intToIpv4(ip), n: ip };
  if (h.hostname !== undefined) {
    const problem = typeof h.hostname === 'string' ? dhcpHostnameProblem(h.hostname) : 'expected a string';
    if (problem !== undefined) throw new ValidationError(`${f}.hostname`, h.hostname, problem);
    // dnsmasq compares hostnames without regard to case: "i-1" and "I-1" are one name to it.
    ctx.names.add((h.hostname as string).toLowerCase(), f, h.hostname);
    out.hostname = h.hostname as string;
  }
  for (const k of Object.keys(h)) {
    if (k !== 'mac' && k !== 'ip' && k !== 'hostname') throw new ValidationError(`${f}.${k}`, h[k], 'unknown field');
  }
  return out;
}

/**
 * One host of an already normalised network, checked as normalizeNetworks
 * checks it but for its uniqueness among the others (the caller's: the hosts
 * index, hosts-index.ts). `net` and `i` only name it in an error.
 */
export function normalizeOneHost(h: unknown, nn: NormalizedNetwork, net: string, i: number): NormalizedNetwork['hosts'][number] {
  const network = ipv4ToInt(nn.network);
  const b: Block = { network, prefix: nn.prefix, last: network + nn.size - 1 };
  const ctx: Ctx = { macs: new Seen('MAC', '.mac'), ips: new Seen('address', '.ip'), names: new Seen('hostname', '.hostname') };
  const { n: _n, ...out } = normalizeHost(h, net, i, b, `${nn.network}/${nn.prefix}`, ipv4ToInt(nn.gateway), ctx);
  return out;
}

/** A host's MAC, checked (not multicast, not all zeros) and in lower case. */
function macOf(v: unknown, net: string, i: number): string {
  let macBytes: Uint8Array;
  try {
    macBytes = parseMac('', v);
  } catch (err) {
    if (err instanceof ValidationError) throw new ValidationError(`${hostField(net, i)}.mac`, v, err.reason);
    throw err;
  }
  if (macBytes[0] & 1) throw new ValidationError(`${hostField(net, i)}.mac`, v, 'is a multicast MAC (low bit of the first byte set)');
  if (macBytes.every((x) => x === 0)) throw new ValidationError(`${hostField(net, i)}.mac`, v, 'is the all-zero MAC');
  return (v as string).toLowerCase();
}

function normalizeNetwork(n: unknown, f: string, ctx: Ctx): NormalizedNetwork & { block: Block } {
  if (!isObject(n)) throw new ValidationError(f, n, 'expected a network object { interface, subnet, gateway, dns?, leaseTime?, hosts }');
  for (const k of Object.keys(n)) {
    if (!['interface', 'subnet', 'gateway', 'dns', 'leaseTime', 'hosts'].includes(k)) {
      throw new ValidationError(`${f}.${k}`, n[k], 'unknown field');
    }
  }
  if (typeof n.interface !== 'string' || !IFNAME_RE.test(n.interface) || n.interface === '.' || n.interface === '..') {
    throw new ValidationError(`${f}.interface`, n.interface, 'must be an interface name of 1-15 letters, digits, "_", "." or "-"');
  }
  const subnet = n.subnet as string;
  const block = subnetOf(`${f}.subnet`, n.subnet);
  const gateway = hostIn(`${f}.gateway`, n.gateway, block, subnet);
  if (n.dns !== undefined && !Array.isArray(n.dns)) throw new ValidationError(`${f}.dns`, n.dns, 'expected an array of IPv4 addresses');
  const dns = ((n.dns as unknown[] | undefined) ?? []).map((d, i) => intToIpv4(ipv4(`${f}.dns[${i}]`, d)));
  const leaseTime = leaseTimeOf(`${f}.leaseTime`, n.leaseTime);
  if (!Array.isArray(n.hosts)) throw new ValidationError(`${f}.hosts`, n.hosts, 'expected an array of hosts (may be empty)');
  const hosts = n.hosts
    .map((h, i) => normalizeHost(h, f, i, block, subnet, gateway, ctx))
    .sort((a, b) => a.n - b.n)
    .map(({ n: _n, ...h }) => h);
  const mask = (0xffffffff << (32 - block.prefix)) >>> 0;
  return {
    interface: n.interface,
    tag: `net-${intToIpv4(block.network)}`,
    network: intToIpv4(block.network),
    prefix: block.prefix,
    netmask: intToIpv4(mask),
    size: block.last - block.network + 1,
    gateway: intToIpv4(gateway),
    dns,
    leaseTime,
    hosts,
    block,
  };
}

/**
 * Validates DHCP networks and returns them in canonical form, sorted by subnet
 * (hosts by address). Several networks may share an interface (MANAGED-NOVLAN:
 * one bridge carries every group's gateway); subnets must not overlap, and a
 * MAC, address or hostname may appear only once in all.
 */
export function normalizeNetworks(networks: unknown): NormalizedNetwork[] {
  if (!Array.isArray(networks)) throw new ValidationError('networks', networks, 'expected an array of networks');
  const ctx: Ctx = { macs: new Seen('MAC', '.mac'), ips: new Seen('address', '.ip'), names: new Seen('hostname', '.hostname') };
  const list = networks.map((n, i) => ({ ...normalizeNetwork(n, `networks[${i}]`, ctx), i }));
  const sorted = [...list].sort((a, b) => a.block.network - b.block.network);
  for (let k = 1; k < sorted.length; k++) {
    const prev = sorted[k - 1];
    const cur = sorted[k];
    if (cur.block.network <= prev.block.last) {
      const [first, second] = prev.i < cur.i ? [prev, cur] : [cur, prev];
      throw new ValidationError(
        `networks[${second.i}].subnet`,
        `${second.network}/${second.prefix}`,
        `overlaps networks[${first.i}].subnet ${first.network}/${first.prefix}`,
      );
    }
  }
  return sorted.map(({ block: _b, i: _i, ...n }) => n);
}
