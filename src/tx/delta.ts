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
import type { ElementInput } from '../nft/build/elements.js';
import type { FdbSpec } from '../rtnl/fdb.js';
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
  /** When `fdb`: the entries to add and to delete (applied without reading the FDB unless the links changed too). */
  fdbChange?: { add: FdbSpec[]; del: FdbSpec[] };
  /** Sysctl keys added or changed (a removed key is left as it is, as a full reconcile does). */
  sysctls: string[];
  nft: {
    /** The whole nftables content is reconciled (tables, a set's type or a chain's head changed). */
    whole: boolean;
    /** Chains whose head or rules changed, as "family table name". */
    chains: Set<string>;
    /**
     * Sets whose elements changed, as "family table name": the elements to
     * add and to delete (a map element whose value changed is in both).
     * They are not read from the kernel: a delete of an element that is not
     * there fails the batch (and the agent falls back to a full reconcile).
     */
    sets: Map<string, SetChange>;
  };
}

export interface SetChange {
  add: ElementInput[];
  del: ElementInput[];
}

const withBigints = (_k: string, x: unknown): unknown => (typeof x === 'bigint' ? `${x}n` : x instanceof Uint8Array ? `0x${byteString(x)}` : x);

/**
 * A stable text for a plain value, equal exactly when the values are: JSON,
 * and where JSON cannot (a rule's expressions may carry bigints) with a
 * replacer, which is several times slower and so only the fallback.
 */
export function stableText(v: unknown): string {
  try {
    return JSON.stringify(v);
  } catch {
    return JSON.stringify(v, withBigints);
  }
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

/** The texts a delta compares, computed once per desired state (it is the next delta's previous one). */
interface Texts {
  links: string;
  ports: Map<string, string>;
  addresses: string;
  routes: string;
  fdb: string;
  tables: string;
  heads: Map<string, string>;
  rules: Map<string, string>;
  types: Map<string, string>;
  elements: Map<string, string>;
  /** Per set, each element's text (made when a set's elements differ). */
  each: Map<string, Map<string, ElementInput>>;
  /** Each FDB entry by its text (the section's text is made of them: one pass over thousands of entries). */
  fdbEach: Map<string, FdbSpec>;
}
const memo = new WeakMap<DesiredState, Texts>();

function textsOf(d: DesiredState): Texts {
  const had = memo.get(d);
  if (had) return had;
  const n = d.nft ?? { tables: [], chains: [], sets: [], rules: [] };
  const fdb = d.fdb ?? [];
  const fdbTexts = fdb.map((f) => stableText(f));
  const t: Texts = {
    links: stableText(d.links ?? []),
    ports: byKey(d.ports, (p) => p.name),
    addresses: stableText(d.addresses ?? []),
    routes: stableText(d.routes ?? []),
    fdb: fdbTexts.join('\n'),
    tables: stableText(n.tables),
    heads: byKey(n.chains, objKey),
    rules: byKey(n.rules, (r: RuleSpec) => `${r.family} ${r.table} ${r.chain}`),
    types: byKey(n.sets, objKey, (s) => stableText({ ...s, elements: undefined })),
    elements: byKey(n.sets, objKey, (s) => stableText(s.elements ?? [])),
    each: new Map(),
    fdbEach: new Map(fdbTexts.map((x, i) => [x, fdb[i]])),
  };
  memo.set(d, t);
  return t;
}

/** A set's elements by their text. */
function elementsOf(d: DesiredState, t: Texts, key: string): Map<string, ElementInput> {
  let m = t.each.get(key);
  if (!m) {
    const set = d.nft?.sets.find((s) => objKey(s) === key);
    m = new Map((set?.elements ?? []).map((e) => [stableText(e), e]));
    t.each.set(key, m);
  }
  return m;
}

function nftDelta(prev: DesiredState, next: DesiredState, p: Texts, n: Texts): Delta['nft'] {
  const whole = { whole: true, chains: new Set<string>(), sets: new Map<string, SetChange>() };
  if (p.tables !== n.tables) return whole;
  const heads = changedKeys(p.heads, n.heads);
  // A chain head or set type changed, a set added or removed: the whole content, as a full reconcile plans it.
  for (const k of heads) if (p.heads.has(k) && n.heads.has(k)) return whole;
  if (changedKeys(p.types, n.types).size) return whole;
  const sets = new Map<string, SetChange>();
  for (const k of changedKeys(p.elements, n.elements)) {
    const was = elementsOf(prev, p, k);
    const now = elementsOf(next, n, k);
    sets.set(k, { add: [...now].filter(([x]) => !was.has(x)).map(([, e]) => e), del: [...was].filter(([x]) => !now.has(x)).map(([, e]) => e) });
  }
  return { whole: false, chains: new Set([...heads, ...changedKeys(p.rules, n.rules)]), sets };
}

function fdbChange(p: Texts, n: Texts): Delta['fdbChange'] {
  const was = p.fdbEach;
  const now = n.fdbEach;
  return { add: [...now].filter(([k]) => !was.has(k)).map(([, f]) => f), del: [...was].filter(([k]) => !now.has(k)).map(([, f]) => f) };
}

/** What differs between the desired state last applied (`prev`) and the new one (`next`). */
export function deltaOf(prev: DesiredState, next: DesiredState): Delta {
  const p = textsOf(prev);
  const n = textsOf(next);
  const pSys = prev.sysctls ?? {};
  const nSys = next.sysctls ?? {};
  return {
    links: p.links !== n.links,
    linkNames: new Set([...(prev.links ?? []), ...(next.links ?? [])].map((l) => l.name)),
    ports: changedKeys(p.ports, n.ports),
    addresses: p.addresses !== n.addresses,
    routes: p.routes !== n.routes,
    fdb: p.fdb !== n.fdb,
    ...(p.fdb !== n.fdb ? { fdbChange: fdbChange(p, n) } : {}),
    sysctls: Object.keys(nSys).filter((k) => String(nSys[k]) !== String(pSys[k])),
    nft: nftDelta(prev, next, p, n),
  };
}

/** True when nothing differs. */
export function isEmptyDelta(d: Delta): boolean {
  return !d.links && !d.ports.size && !d.addresses && !d.routes && !d.fdb && !d.sysctls.length && !d.nft.whole && !d.nft.chains.size && !d.nft.sets.size;
}

/** A short text of what differs, for logs: "ports 1, nft chains 1, nft sets 2 (+2 -0)": elements added and deleted. */
export function describeDelta(d: Delta): string {
  const parts: string[] = [];
  if (d.links) parts.push('links');
  if (d.ports.size) parts.push(`ports ${d.ports.size}`);
  if (d.addresses) parts.push('addresses');
  if (d.routes) parts.push('routes');
  if (d.fdb) parts.push(d.fdbChange ? `fdb (+${d.fdbChange.add.length} -${d.fdbChange.del.length})` : 'fdb');
  if (d.sysctls.length) parts.push(`sysctls ${d.sysctls.length}`);
  if (d.nft.whole) parts.push('nft whole');
  if (d.nft.chains.size) parts.push(`nft chains ${d.nft.chains.size}`);
  if (d.nft.sets.size) {
    const n = (f: (c: SetChange) => number) => [...d.nft.sets.values()].reduce((t, c) => t + f(c), 0);
    parts.push(`nft sets ${d.nft.sets.size} (+${n((c) => c.add.length)} -${n((c) => c.del.length)})`);
  }
  return parts.join(', ') || 'nothing';
}
