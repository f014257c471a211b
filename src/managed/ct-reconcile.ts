// The cluster controller's conntrack reconciler, as a pure function: the NAT
// maps the CC's nft table carries (roles/firewall.ts: pub2priv, priv2pub, the
// pool) and a conntrack table in, the entries that no longer match the maps
// out. NAT is decided on a connection's first packet and kept in its entry, so
// a map that changed leaves the older entries NATing the old way for as long
// as packets keep them alive (a steady UDP stream: forever).
//
// Inbound (DNAT, prerouting `dnat to ip daddr map @pub2priv`): an entry whose
// original destination P is a public address of the CC (the pool, or mapped)
// answers from reply.src:
//   - P now maps to X and reply.src is not X: stale. This is an address moved
//     to another instance, and also an entry made while P was mapped to
//     nobody: then the CC forwarded the packets un-NATed (reply.src == P) and
//     would go on doing so after the association. Not for the CC's own
//     connections to P (orig.src one of its own addresses: they never pass
//     prerouting's DNAT and are not NATed by design).
//   - P now maps to nobody and the entry was DNATed (reply.src is not P):
//     stale (disassociated, released, or its instance terminated).
// Outbound (SNAT, postrouting `snat to ip saddr map @priv2pub`, else
// masquerade): an entry from an address I of the private subnet that was
// source-NATed (reply.dst is not I) leaves as reply.dst:
//   - I now maps to Q and reply.dst is not Q: stale (it would leave under an
//     address that is not its own now; masqueraded before it had one).
//   - I now maps to nobody and reply.dst is a pool address: stale (it would
//     keep leaving as a public address that is no longer its). A masqueraded
//     entry (the CC's own address) is left alone.
// Anything else is kept: unchanged instances' flows, traffic between
// instances (never SNATed), the metadata DNAT, the CC's own flows, other
// zones, IPv6. Revoking an ingress rule deletes nothing: established
// connections go on, as in Eucalyptus and AWS security groups.
import type { CtEntry } from '../conntrack/types.js';
import { ipv4ToInt } from '../util/ip.js';
import { parseBlock, lastOf } from './net.js';
import { parsePool, poolContains, type PoolRange } from './pool.js';
import type { AllocatedState } from './types.js';

/** The CC's NAT as addresses. */
export interface NatMaps {
  /** public -> private (pub2priv). */
  pub2priv: ReadonlyMap<string, string>;
  /** private -> public (priv2pub). */
  priv2pub: ReadonlyMap<string, string>;
  pool: readonly PoolRange[];
  /** The private network (state.subnet) as an inclusive integer range. */
  subnet: { start: number; end: number };
}

export interface StaleEntry {
  entry: CtEntry;
  /** Why, for people: "192.168.32.200 maps to 10.1.0.3 now, not 10.1.0.2". */
  reason: string;
}

/** The maps ccNft (roles/firewall.ts) puts in the kernel for this state. */
export function natMapsOf(state: AllocatedState): NatMaps {
  const pub2priv = new Map<string, string>();
  const priv2pub = new Map<string, string>();
  for (const i of state.instances) {
    if (i.publicIp === undefined) continue;
    pub2priv.set(i.publicIp, i.privateIp);
    priv2pub.set(i.privateIp, i.publicIp);
  }
  const b = parseBlock('subnet', state.subnet);
  return { pub2priv, priv2pub, pool: parsePool(state.publicIps), subnet: { start: b.network, end: lastOf(b) } };
}

const V4 = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;

function inbound(m: NatMaps, e: CtEntry, local: ReadonlySet<string>): string | undefined {
  const p = e.orig.dst;
  const want = m.pub2priv.get(p);
  const isPublic = want !== undefined || poolContains(m.pool, ipv4ToInt(p));
  if (!isPublic) return undefined;
  const got = e.reply.src;
  if (want !== undefined) {
    if (got === want) return undefined;
    if (got === p && local.has(e.orig.src)) return undefined;
    return got === p ? `${p} maps to ${want} now; this entry was made un-NATed` : `${p} maps to ${want} now, not ${got}`;
  }
  return got !== p ? `${p} maps to no instance now; this entry still goes to ${got}` : undefined;
}

function outbound(m: NatMaps, e: CtEntry): string | undefined {
  const i = e.orig.src;
  const n = ipv4ToInt(i);
  if (n < m.subnet.start || n > m.subnet.end) return undefined;
  const as = e.reply.dst;
  if (as === i) return undefined;
  const want = m.priv2pub.get(i);
  if (want !== undefined) return as === want ? undefined : `${i} leaves as ${want} now, not ${as}`;
  return poolContains(m.pool, ipv4ToInt(as)) ? `${i} has no public address now; this entry still leaves as ${as}` : undefined;
}

/**
 * The entries of `entries` that no longer match the maps, each with its
 * reason, in the order given. `local` holds the CC's own addresses (its
 * connections to its public addresses are not NATed, by design).
 */
export function staleConntrack(m: NatMaps, entries: readonly CtEntry[], local: ReadonlySet<string> = new Set()): StaleEntry[] {
  const out: StaleEntry[] = [];
  for (const e of entries) {
    if (e.family !== 'ipv4' || e.zone !== 0 || !V4.test(e.orig.dst) || !V4.test(e.orig.src)) continue;
    const reason = inbound(m, e, local) ?? outbound(m, e);
    if (reason) out.push({ entry: e, reason });
  }
  return out;
}

/**
 * The addresses whose entries the conntrack step has to look at again: by
 * original destination, public addresses (`pub`); by original source, the
 * public and private addresses (`priv`) whose mapping changed. Entries of
 * other addresses are judged the same way as before: the judgement reads only
 * pub2priv at the destination, priv2pub and the CC's own addresses (public
 * addresses are its own while mapped) at the source, and the pool and subnet.
 */
export interface NatChange {
  pub: ReadonlySet<string>;
  priv: ReadonlySet<string>;
}

/** Which addresses' mappings differ from `prev` to `next`; undefined when the pool or the subnet differ (every entry may be judged anew). */
export function natChangeOf(prev: NatMaps, next: NatMaps): NatChange | undefined {
  if (prev.subnet.start !== next.subnet.start || prev.subnet.end !== next.subnet.end) return undefined;
  if (JSON.stringify(prev.pool) !== JSON.stringify(next.pool)) return undefined;
  const pub = new Set<string>();
  const priv = new Set<string>();
  const diff = (a: ReadonlyMap<string, string>, b: ReadonlyMap<string, string>, out: Set<string>) => {
    for (const [k, v] of a) if (b.get(k) !== v) out.add(k);
    for (const k of b.keys()) if (!a.has(k)) out.add(k);
  };
  diff(prev.pub2priv, next.pub2priv, pub);
  diff(prev.priv2pub, next.priv2pub, priv);
  return { pub, priv };
}

/** Both changes at once (the step owed since an older success), or undefined when either is. */
export function natChangeUnion(a: NatChange | undefined, b: NatChange | undefined): NatChange | undefined {
  if (!a || !b) return undefined;
  return { pub: new Set([...a.pub, ...b.pub]), priv: new Set([...a.priv, ...b.priv]) };
}
