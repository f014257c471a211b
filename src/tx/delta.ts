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
//
// The big sections (thousands of ports, FDB entries, set elements: one per
// instance) are compared value by value (sameValue), not as text: a version
// that changes one instance costs a walk over them, not a JSON text of each.
// Only the entries that differ are made text, to pair additions and deletions.
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

/**
 * A frozen object's text, made once: a planner that hands over the same
 * frozen rule or chain for what did not change (the CC's per-group part,
 * managed/roles/firewall.ts) is not turned into text again at every version.
 */
const frozenTexts = new WeakMap<object, string>();
function textOnce(x: object): string {
  if (!Object.isFrozen(x)) return stableText(x);
  let t = frozenTexts.get(x);
  if (t === undefined) frozenTexts.set(x, (t = stableText(x)));
  return t;
}

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

/**
 * Deep equality of plain data (objects, arrays, numbers, strings, booleans,
 * bigints, byte arrays), with a key whose value is undefined taken as absent
 * (as JSON does); key order does not matter.
 */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (a instanceof Uint8Array || b instanceof Uint8Array) {
    if (!(a instanceof Uint8Array && b instanceof Uint8Array) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }
  if (Array.isArray(a) || Array.isArray(b)) return Array.isArray(a) && Array.isArray(b) && sameList(a, b);
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  let n = 0;
  for (const k in x) {
    if (x[k] === undefined) continue;
    n++;
    if (!sameValue(x[k], y[k])) return false;
  }
  for (const k in y) if (y[k] !== undefined) n--;
  return n === 0;
}

function sameList(a: readonly unknown[], b: readonly unknown[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!sameValue(a[i], b[i])) return false;
  return true;
}

/**
 * What was added to and removed from a list (by value; a value twice counts
 * once): the common head and tail are skipped by value, the rest paired by text.
 */
function listChange<T>(was: readonly T[], now: readonly T[]): { add: T[]; del: T[] } {
  let head = 0;
  while (head < was.length && head < now.length && sameValue(was[head], now[head])) head++;
  let tail = 0;
  while (tail < was.length - head && tail < now.length - head && sameValue(was[was.length - 1 - tail], now[now.length - 1 - tail])) tail++;
  const before = new Map(was.slice(head, was.length - tail).map((x) => [stableText(x), x]));
  const after = new Map(now.slice(head, now.length - tail).map((x) => [stableText(x), x]));
  return { add: [...after].filter(([k]) => !before.has(k)).map(([, x]) => x), del: [...before].filter(([k]) => !after.has(k)).map(([, x]) => x) };
}

/** Items by key, in order (a key twice keeps both). */
function listsByKey<T>(items: readonly T[] | undefined, key: (x: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const x of items ?? []) {
    const k = key(x);
    const had = out.get(k);
    if (had) had.push(x);
    else out.set(k, [x]);
  }
  return out;
}

/** Keys whose items differ by value, or that are in one map only. */
function changedLists<T>(a: Map<string, readonly T[]>, b: Map<string, readonly T[]>): Set<string> {
  const out = new Set<string>();
  for (const [k, x] of a) {
    const y = b.get(k);
    if (!y || !sameList(x, y)) out.add(k);
  }
  for (const k of b.keys()) if (!a.has(k)) out.add(k);
  return out;
}

const portName = (p: unknown) => (p as { name: string }).name;

/**
 * The names of the ports that differ by value (or are in one list only). The
 * common head and tail (equal by value, position by position: a version adds
 * or removes a port or two among thousands) are skipped; only the rest is
 * grouped by name and compared. Conservative: a name in a skipped part and
 * also in the rest of one list only counts as changed.
 */
function changedPorts(was: readonly unknown[], now: readonly unknown[]): Set<string> {
  let head = 0;
  while (head < was.length && head < now.length && sameValue(was[head], now[head])) head++;
  let tail = 0;
  while (tail < was.length - head && tail < now.length - head && sameValue(was[was.length - 1 - tail], now[now.length - 1 - tail])) tail++;
  if (head + tail === was.length && head + tail === now.length) return new Set();
  return changedLists(listsByKey(was.slice(head, was.length - tail), portName), listsByKey(now.slice(head, now.length - tail), portName));
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
  addresses: string;
  routes: string;
  tables: string;
  heads: Map<string, string>;
  rules: Map<string, string>;
  types: Map<string, string>;
  /** Each set's elements, by the set's key (compared by value). */
  elements: Map<string, readonly ElementInput[]>;
}
const memo = new WeakMap<DesiredState, Texts>();

function textsOf(d: DesiredState): Texts {
  const had = memo.get(d);
  if (had) return had;
  const n = d.nft ?? { tables: [], chains: [], sets: [], rules: [] };
  const t: Texts = {
    links: stableText(d.links ?? []),
    addresses: stableText(d.addresses ?? []),
    routes: stableText(d.routes ?? []),
    tables: stableText(n.tables),
    heads: byKey(n.chains, objKey, textOnce),
    rules: byKey(n.rules, (r: RuleSpec) => `${r.family} ${r.table} ${r.chain}`, textOnce),
    types: byKey(n.sets, objKey, (s) => stableText({ ...s, elements: undefined })),
    elements: new Map(),
  };
  // A set's own list as it is (one set per key, the usual case): copying a
  // node's three anti-spoofing sets (5000 elements each) cost 2.7 ms a version.
  for (const [k, sets] of listsByKey(n.sets, objKey)) t.elements.set(k, sets.length === 1 ? (sets[0].elements ?? []) : sets.flatMap((s) => s.elements ?? []));
  memo.set(d, t);
  return t;
}

function nftDelta(p: Texts, n: Texts): Delta['nft'] {
  const whole = { whole: true, chains: new Set<string>(), sets: new Map<string, SetChange>() };
  if (p.tables !== n.tables) return whole;
  const heads = changedKeys(p.heads, n.heads);
  // A chain head or set type changed, a set added or removed: the whole content, as a full reconcile plans it.
  for (const k of heads) if (p.heads.has(k) && n.heads.has(k)) return whole;
  if (changedKeys(p.types, n.types).size) return whole;
  const sets = new Map<string, SetChange>();
  for (const k of changedLists(p.elements, n.elements)) sets.set(k, listChange(p.elements.get(k) ?? [], n.elements.get(k) ?? []));
  return { whole: false, chains: new Set([...heads, ...changedKeys(p.rules, n.rules)]), sets };
}

/** What differs between the desired state last applied (`prev`) and the new one (`next`). */
export function deltaOf(prev: DesiredState, next: DesiredState): Delta {
  const p = textsOf(prev);
  const n = textsOf(next);
  const fdbChanged = !sameList(prev.fdb ?? [], next.fdb ?? []);
  const pSys = prev.sysctls ?? {};
  const nSys = next.sysctls ?? {};
  return {
    links: p.links !== n.links,
    linkNames: new Set([...(prev.links ?? []), ...(next.links ?? [])].map((l) => l.name)),
    ports: changedPorts(prev.ports ?? [], next.ports ?? []),
    addresses: p.addresses !== n.addresses,
    routes: p.routes !== n.routes,
    fdb: fdbChanged,
    ...(fdbChanged ? { fdbChange: listChange(prev.fdb ?? [], next.fdb ?? []) } : {}),
    sysctls: Object.keys(nSys).filter((k) => String(nSys[k]) !== String(pSys[k])),
    nft: nftDelta(p, n),
  };
}

/** A delta in which nothing differs: a quick sync sets its own sections on it (fdb-delta.ts; the CC agent's rules-only sync). */
export function emptyDelta(): Delta {
  return {
    links: false,
    linkNames: new Set(),
    ports: new Set(),
    addresses: false,
    routes: false,
    fdb: false,
    sysctls: [],
    nft: { whole: false, chains: new Set(), sets: new Map() },
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
