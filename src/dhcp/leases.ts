// dnsmasq's lease file, read to find leases that a reload cannot take back.
// Format, one IPv4 lease a line: "<expiry epoch s, 0 = never> <mac> <ip> <hostname|*> <client-id|*>".
import type { NormalizedNetwork } from './types.js';

export interface Lease {
  expiry: number;
  mac: string;
  ip: string;
  line: string;
}

const LEASE_RE = /^(\d+) ([0-9a-f]{2}(?::[0-9a-f]{2}){5}) (\d{1,3}(?:\.\d{1,3}){3}) /i;

export function parseLeases(text: string): Lease[] {
  const out: Lease[] = [];
  for (const line of text.split('\n')) {
    const m = LEASE_RE.exec(line);
    if (m) out.push({ expiry: +m[1], mac: m[2].toLowerCase(), ip: m[3], line });
  }
  return out;
}

const live = (l: Lease, nowS: number): boolean => l.expiry === 0 || l.expiry > nowS;

function hostMap(nets: NormalizedNetwork[]): Map<string, string> {
  const byIp = new Map<string, string>();
  for (const n of nets) for (const h of n.hosts) byIp.set(h.ip, h.mac);
  return byIp;
}

/**
 * Live leases that hold an address the new hosts give to a different MAC.
 * dnsmasq will not take such an address back on SIGHUP ("not using configured
 * address ... because it is leased to ..."): the new owner gets nothing until
 * the old lease expires.
 */
export function leaseConflicts(leases: Lease[], nets: NormalizedNetwork[], nowS = Date.now() / 1000): Lease[] {
  const byIp = hostMap(nets);
  return leases.filter((l) => live(l, nowS) && byIp.has(l.ip) && byIp.get(l.ip) !== l.mac);
}

/**
 * The lease file with only the leases that still match a host (same MAC and
 * address), for a dnsmasq that is not running. Every lease is static, so any
 * other lease belongs to an instance that is gone or has moved.
 */
export function pruneLeases(text: string, nets: NormalizedNetwork[]): string {
  const byIp = hostMap(nets);
  const keep = parseLeases(text).filter((l) => byIp.get(l.ip) === l.mac);
  return keep.map((l) => `${l.line}\n`).join('');
}
