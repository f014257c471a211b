// What changed between two desired states, section by section: the seam of
// the incremental reconcile (reconcile's `only` option, partial.ts). Pure.
//
// Sections: the links (bridges, VXLAN/VLAN devices: a change reads every
// link), the ports (by name: only changed ones are read and diffed),
// addresses, routes, FDB entries (each whole), sysctls (by key), and the
// nftables content by chain (its head and its rules) and by set (its type and
// its elements); a change of the tables themselves, or of a set's type or a
// chain's head (which may force other chains to be refilled), makes the
// nftables part whole again. An object that is in one state and not the
// other counts as changed.
import type { RuleSpec } from '../nft/batch.js';
import { byteString } from '../util/bytes.js';
import type { DesiredState } from './desired.js';

export interface Delta {
  /** The links section changed (every link is read, and the FDB with it). */
  links: boolean;
  /** The links (not ports) of either state, by name: an incremental plan may remove these. */
  linkNames: Set<string>;
  /** Ports added, removed or changed, by name. */
  ports: Set<string>;
  addresses: boolean;
  routes: boolean;
  fdb: boolean;
  /** Sysctl keys added or changed (a removed key is left as it is, as a full reconcile does). */
  sysctls: string[];
  nft: {
    /** The whole nftables content is reconciled (tables, a set's type or a chain's head changed). */
    whole: boolean;
    /** Chains whose head or rules changed, as "family table name". */
    chains: Set<string>;
    /** Sets whose elements changed, as "family table name". */
    sets: Set<string>;
  };
}

/** A stable text for a plain value: bigints and byte arrays included (a rule's expressions carry both). */
export function stableText(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? `${x}n` : x instanceof Uint8Array ? `0x${byteString(x)}` : x));
}

const objKey = (o: { family: string; table: string; name: string }) => `${o.family} ${o.table} ${o.name}`;

/** Texts by key; a key twice keeps both texts. */
function byKey<T>(items: readonly T[] | undefined, key: (x: T) => string, text: (x: T) => string = stableText): Map<string, string> {
  const out = new Map<string, string>();
  for (const x of items ?? []) {
    const k = key(x);
    const t = text(x);
    const had = out.get(k);
    out.set(k, had === undefined ? t : `${had}\n${t}`);
  }
  return out;
}

/** Keys whose text differs, or that are in one map only. */
function changedKeys(a: Map<string, string>, b: Map<string, string>): Set<string> {
  const out = new Set<string>();
  for (const [k, t] of a) if (b.get(k) !== t) out.add(k);
  for (const k of b.keys()) if (!a.has(k)) out.add(k);
  return out;
}

const same = (a: unknown, b: unknown) => stableText(a ?? []) === stableText(b ?? []);

function nftDelta(prev: DesiredState['nft'], next: DesiredState['nft']): Delta['nft'] {
  const p = prev ?? { tables: [], chains: [], sets: [], rules: [] };
  const n = next ?? { tables: [], chains: [], sets: [], rules: [] };
  const whole = { whole: true, chains: new Set<string>(), sets: new Set<string>() };
  if (!same(p.tables, n.tables)) return whole;
  const heads = changedKeys(byKey(p.chains, objKey), byKey(n.chains, objKey));
  const ruleOf = (r: RuleSpec) => `${r.family} ${r.table} ${r.chain}`;
  const rules = changedKeys(byKey(p.rules, ruleOf), byKey(n.rules, ruleOf));
  const typeOf = (s: { elements?: unknown }) => stableText({ ...s, elements: undefined });
  const types = changedKeys(byKey(p.sets, objKey, typeOf), byKey(n.sets, objKey, typeOf));
  const elements = changedKeys(
    byKey(p.sets, objKey, (s) => stableText(s.elements ?? [])),
    byKey(n.sets, objKey, (s) => stableText(s.elements ?? [])),
  );
  // A chain head or set type changed, a set added or removed: the whole content, as a full reconcile plans it.
  const pChains = new Set(p.chains.map(objKey));
  for (const k of heads) if (pChains.has(k) && n.chains.some((c) => objKey(c) === k)) return whole;
  if (types.size) return whole;
  return { whole: false, chains: new Set([...heads, ...rules]), sets: elements };
}

/** What differs between the desired state last applied (`prev`) and the new one (`next`). */
export function deltaOf(prev: DesiredState, next: DesiredState): Delta {
  const portKey = (x: { name: string }) => x.name;
  const pSys = prev.sysctls ?? {};
  const nSys = next.sysctls ?? {};
  return {
    links: !same(prev.links, next.links),
    linkNames: new Set([...(prev.links ?? []), ...(next.links ?? [])].map((l) => l.name)),
    ports: changedKeys(byKey(prev.ports, portKey), byKey(next.ports, portKey)),
    addresses: !same(prev.addresses, next.addresses),
    routes: !same(prev.routes, next.routes),
    fdb: !same(prev.fdb, next.fdb),
    sysctls: Object.keys(nSys).filter((k) => String(nSys[k]) !== String(pSys[k])),
    nft: nftDelta(prev.nft, next.nft),
  };
}

/** True when nothing differs. */
export function isEmptyDelta(d: Delta): boolean {
  return !d.links && !d.ports.size && !d.addresses && !d.routes && !d.fdb && !d.sysctls.length && !d.nft.whole && !d.nft.chains.size && !d.nft.sets.size;
}

/** A short text of what differs, for logs: "ports 1, nft chains 1, nft sets 2". */
export function describeDelta(d: Delta): string {
  const parts: string[] = [];
  if (d.links) parts.push('links');
  if (d.ports.size) parts.push(`ports ${d.ports.size}`);
  if (d.addresses) parts.push('addresses');
  if (d.routes) parts.push('routes');
  if (d.fdb) parts.push('fdb');
  if (d.sysctls.length) parts.push(`sysctls ${d.sysctls.length}`);
  if (d.nft.whole) parts.push('nft whole');
  if (d.nft.chains.size) parts.push(`nft chains ${d.nft.chains.size}`);
  if (d.nft.sets.size) parts.push(`nft sets ${d.nft.sets.size}`);
  return parts.join(', ') || 'nothing';
}
