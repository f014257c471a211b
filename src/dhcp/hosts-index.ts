// The CC's DHCP hosts as last validated in full (normalizeNetworks), kept per
// state directory so that the step after an incremental change (updateHosts:
// a run-instance, a terminate) checks and places only the hosts that changed.
// Normalising every host again costs about 25 ms of CPU at 5000 hosts, per
// operation, while every agent of the cloud is busy with the same version.
//
// The index answers only for a change it can prove is one from its own hosts:
// the same networks (interface, subnet, gateway, DNS, lease time, in the same
// order), each with as many hosts as it had plus the added minus the removed,
// every removed host present exactly as given, every added host valid and
// taking no MAC, address or hostname another host keeps. Anything else is
// answered "not mine" (undefined), and the caller normalises in full, which
// also names the problem exactly as a full update would.
import { ipv4Number } from '../util/ip.js';
import { ValidationError } from '../errors.js';
import type { HostChange } from './hosts-dir.js';
import type { DhcpHost, DhcpNetwork, NormalizedNetwork } from './types.js';
import { normalizeOneHost } from './validate.js';

type Host = NormalizedNetwork['hosts'][number];

const headerOf = (n: DhcpNetwork): string => JSON.stringify([n.interface, n.subnet, n.gateway, n.dns ?? [], n.leaseTime ?? null]);

/** The uniqueness keys of a normalised host (MAC lower-case already; dnsmasq compares hostnames without case). */
const keysOf = (h: Host): string[] => {
  const out = [`mac ${h.mac}`, `ip ${h.ip}`];
  if (h.hostname !== undefined) out.push(`name ${h.hostname.toLowerCase()}`);
  return out;
};

/** The first index in sorted `a` whose value is not below `x`. */
function lowerBound(a: readonly number[], x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** One change placed: the normalised network (by position in `nets`), and the host's address as a number. */
interface Placed {
  k: number;
  n: number;
}

export class HostsIndex {
  /** The input networks' headers and host counts, in input order; `net[i]`: input network i's place in `nets`. */
  private readonly headers: string[];
  private readonly counts: number[];
  private readonly net: number[];
  /** Per normalised network, its hosts' addresses as numbers, sorted (parallel to nets[k].hosts). */
  private readonly nums: number[][];
  private readonly starts: number[];
  /** Every MAC, address and hostname held (keysOf). */
  private readonly keys = new Set<string>();

  /**
   * `nets`: normalizeNetworks(input), which this index now owns and changes in
   * place. `marker`: the loaded marker written for them (what a later change
   * checks the disk against).
   */
  constructor(
    input: readonly DhcpNetwork[],
    readonly nets: NormalizedNetwork[],
    public marker = '',
  ) {
    this.headers = input.map(headerOf);
    this.counts = input.map((n) => n.hosts.length);
    this.starts = nets.map((n) => ipv4Number(n.network));
    this.net = input.map((n) => this.starts.indexOf(ipv4Number(n.subnet.split('/')[0])));
    this.nums = nets.map((n) => n.hosts.map((h) => ipv4Number(h.ip)));
    for (const n of nets) for (const h of n.hosts) for (const key of keysOf(h)) this.keys.add(key);
  }

  /** The normalised network holding address `n`, or -1. */
  private netOf(n: number): number {
    for (let k = 0; k < this.nets.length; k++) if (n > this.starts[k] && n < this.starts[k] + this.nets[k].size) return k;
    return -1;
  }

  /**
   * Brings the index from its hosts to `networks` by `change` (the hosts
   * added and removed in between) and returns its networks, normalised as
   * normalizeNetworks(networks) would make them; or undefined, changing
   * nothing, when it cannot prove that (see the top of this file).
   */
  apply(networks: readonly DhcpNetwork[], change: HostChange): NormalizedNetwork[] | undefined {
    if (networks.length !== this.headers.length || this.net.includes(-1)) return undefined;
    const delta = new Array<number>(this.nets.length).fill(0);
    const dels: Array<Placed & { at: number }> = [];
    for (const h of change.del) {
      const p = this.place(h);
      const at = p ? lowerBound(this.nums[p.k], p.n) : -1;
      const had = p && this.nums[p.k][at] === p.n ? this.nets[p.k].hosts[at] : undefined;
      if (!p || !had || had.mac !== String(h.mac).toLowerCase() || had.hostname !== h.hostname) return undefined;
      if (dels.some((d) => d.n === p.n)) return undefined;
      dels.push({ ...p, at });
      delta[p.k]--;
    }
    const freed = new Set(dels.flatMap((d) => keysOf(this.nets[d.k].hosts[d.at])));
    const adds: Array<Placed & { host: Host }> = [];
    const taken = new Set<string>();
    for (const h of change.add) {
      const p = this.place(h);
      if (!p) return undefined;
      let host: Host;
      try {
        host = normalizeOneHost(h, this.nets[p.k], `networks[${p.k}]`, 0);
      } catch (err) {
        if (err instanceof ValidationError) return undefined;
        throw err;
      }
      for (const key of keysOf(host)) {
        if ((this.keys.has(key) && !freed.has(key)) || taken.has(key)) return undefined;
        taken.add(key);
      }
      adds.push({ ...p, host });
      delta[p.k]++;
    }
    for (let i = 0; i < networks.length; i++) {
      const n = networks[i];
      if (headerOf(n) !== this.headers[i] || n.hosts.length !== this.counts[i] + delta[this.net[i]]) return undefined;
    }
    this.commit(dels, adds, networks);
    return this.nets;
  }

  /** The normalised network an input host's address falls in, with the address as a number. */
  private place(h: DhcpHost): Placed | undefined {
    const n = typeof h?.ip === 'string' ? ipv4Number(h.ip) : -1;
    const k = n < 0 ? -1 : this.netOf(n);
    return k < 0 ? undefined : { k, n };
  }

  /** apply()'s changes, all checked: removals (from the last place back), then additions in address order. */
  private commit(dels: Array<Placed & { at: number }>, adds: Array<Placed & { host: Host }>, networks: readonly DhcpNetwork[]): void {
    for (const d of [...dels].sort((x, y) => y.at - x.at || y.k - x.k)) {
      for (const key of keysOf(this.nets[d.k].hosts[d.at])) this.keys.delete(key);
      this.nets[d.k].hosts.splice(d.at, 1);
      this.nums[d.k].splice(d.at, 1);
    }
    for (const a of adds) {
      const at = lowerBound(this.nums[a.k], a.n);
      this.nets[a.k].hosts.splice(at, 0, a.host);
      this.nums[a.k].splice(at, 0, a.n);
      for (const key of keysOf(a.host)) this.keys.add(key);
    }
    for (let i = 0; i < networks.length; i++) this.counts[i] = networks[i].hosts.length;
  }
}
