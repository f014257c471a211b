// The nftables half of reconcile: the content of eucanet's own tables as the
// kernel lists it, against the desired content, as the fewest batch ops.
//
// Granularity: a table, chain or set that is missing is added; a chain whose
// rules differ in any way is flushed and refilled (inside the same atomic
// batch, so no packet sees it half done); set elements are added and deleted
// one by one (the per-instance NAT maps change by one element per instance);
// a set whose type changed is recreated, and then every chain of its table is
// refilled, since rules refer to it. eucanet owns the tables named "eucanet"
// or "eucanet-*" whole: anything in them that is not desired is removed, and so
// is an owned table that is not desired at all. Other tables are never touched.
import { ValidationError } from '../errors.js';
import type { RuleSpec } from '../nft/batch.js';
import type { NftSink } from './nft-recorder.js';
import { RuleBuilder } from '../nft/build/builder.js';
import { byteString } from '../util/bytes.js';
import { parseElements, type ElementInput } from '../nft/build/elements.js';
import type { Nft } from '../nft/nft.js';
import { elementDumps, generationAndTables, listTablesContent } from '../nft/list.js';
import { inputPairs } from '../nft/build/element-pairs.js';
import { decodeElements } from '../nft/wire/setelem.js';
import { elementPairs, type ElementPairs } from '../nft/wire/setelem-pairs.js';
import { renderRuleBody } from '../nft/render/rule.js';
import type { Chain, Expr, NftSet, Rule, SetElement, Table } from '../nft/types.js';
import { isOwnedTable, OWNED_TABLE_PREFIX } from './owner.js';

export interface DesiredSet extends NftSet {
  elements?: readonly ElementInput[];
}

/** The desired content of the tables eucanet owns. */
export interface DesiredNft {
  tables: Table[];
  chains: Chain[];
  sets: DesiredSet[];
  /** Rules in order within each chain. */
  rules: RuleSpec[];
}

export interface Current {
  tables: Table[];
  chains: Chain[];
  sets: NftSet[];
  rules: Rule[];
  elements: Map<string, SetElement[]>;
  /**
   * Sets read as key -> value byte strings (plain sets and maps, see
   * wire/setelem-pairs.ts) instead of in `elements`; `full()` decodes their
   * elements after all, for a desired side that cannot be compared as bytes.
   */
  pairs?: Map<string, { pairs: ElementPairs; full: () => SetElement[] }>;
}

const tkey = (t: { family: string; name?: string; table?: string }) => `${t.family} ${t.table ?? t.name}`;
const okey = (o: { family: string; table: string; name: string }) => `${o.family} ${o.table} ${o.name}`;
const ckey = (r: { family: string; table: string; chain: string }) => `${r.family} ${r.table} ${r.chain}`;

/**
 * Reads the current content of eucanet's tables (and of no others); `keep`
 * narrows them to one owner's (the others are returned in `skipped`).
 */
export async function readOwned(nft: Nft, keep: (t: Table) => boolean = () => true): Promise<Current & { skipped: Table[]; genid: number }> {
  // Three exchanges whatever the number of tables and sets: the generation
  // (first, see plan()) with the tables; their chains, rules and sets; every
  // set's elements.
  const { genid, tables: all } = await generationAndTables(nft.conn);
  const owned = all.filter(isOwnedTable);
  const tables = owned.filter(keep);
  const cur: Current & { skipped: Table[]; genid: number } = {
    tables,
    chains: [],
    sets: [],
    rules: [],
    elements: new Map(),
    skipped: owned.filter((t) => !keep(t)),
    genid,
  };
  if (!tables.length) return cur;
  Object.assign(cur, await listTablesContent(nft.conn, tables));
  const dumps = await elementDumps(nft.conn, cur.sets);
  const pairs = (cur.pairs = new Map());
  cur.sets.forEach((s, k) => {
    const p = elementPairs(dumps[k], s);
    if (p) pairs.set(okey(s), { pairs: p, full: () => decodeElements(dumps[k], s) });
    else cur.elements.set(okey(s), decodeElements(dumps[k], s));
  });
  return cur;
}

/** A rule in a form that is equal exactly when two rules do the same thing (counters ignored). */
function ruleText(family: Rule['family'], exprs: readonly Expr[], comment: string | undefined): string {
  const body = renderRuleBody(
    family,
    exprs.filter((e) => e.kind !== 'counter'),
  );
  return comment === undefined ? body : `${body} comment ${JSON.stringify(comment)}`;
}

function desiredExprs(r: RuleSpec): readonly Expr[] {
  return r.exprs instanceof RuleBuilder ? r.exprs.build(r.family) : r.exprs;
}

const sameChainHead = (a: Chain, b: Chain) =>
  a.type === b.type && a.hook === b.hook && (a.priority ?? 0) === (b.priority ?? 0) && (a.device ?? '') === (b.device ?? '');
const sameSetType = (a: NftSet, b: NftSet) =>
  JSON.stringify([a.key, a.data, [...(a.flags ?? [])].sort()]) === JSON.stringify([b.key, b.data, [...(b.flags ?? [])].sort()]);

const elemKey = (e: SetElement) => (e.keyEnd ? `${byteString(e.key)}-${byteString(e.keyEnd)}` : byteString(e.key));
const elemVal = (e: SetElement) => (e.verdict ? `${e.verdict.code} ${e.verdict.chain ?? ''}` : e.data ? byteString(e.data) : '');

const bytesOf = (s: string) => Buffer.from(s, 'latin1');

/**
 * The element changes of one plain set, compared as byte strings: only the
 * elements that differ become objects. Deletes in key order, as the full
 * path sends them (decodeElements sorts by key).
 */
function diffPairs(b: NftSink, have: NftSet, def: NftSet, present: ElementPairs, want: ElementPairs): void {
  const del: string[] = [];
  // forEach, not for-of over the entries: no [key, value] array per element
  // (2000 of them in a re-apply that changes nothing, at 1000 instances).
  present.forEach((v, k) => {
    if (want.get(k) !== v) del.push(k);
  });
  // Every element present is wanted as it is, and there are as many: nothing to add (the common re-apply).
  if (!del.length && present.size === want.size) return;
  const add: SetElement[] = [];
  for (const [k, v] of want) if (present.get(k) !== v) add.push(v ? { key: bytesOf(k), data: bytesOf(v) } : { key: bytesOf(k) });
  if (del.length)
    b.deleteElements(
      have,
      del.sort().map((k) => ({ key: bytesOf(k) })),
    );
  if (add.length) b.addElements(def, add);
}

/**
 * The desired sets' elements as key -> value byte strings (inputPairs), set by
 * set: computed from the desired state alone, so reconcile computes them while
 * the kernel's dumps are in flight and hands them to diffNft.
 */
export function prepareNftPairs(want: DesiredNft): Map<DesiredSet, ElementPairs | undefined> {
  const out = new Map<DesiredSet, ElementPairs | undefined>();
  for (const s of want.sets) if (s.elements?.length) out.set(s, inputPairs(s, s.elements));
  return out;
}

/**
 * Adds to `b` the ops that take `cur` to `want`. Returns the number of ops
 * added. `wantPairs`: prepareNftPairs(want), if computed already.
 */
export function diffNft(cur: Current, want: DesiredNft, b: NftSink, wantPairs?: ReadonlyMap<DesiredSet, ElementPairs | undefined>): number {
  for (const t of want.tables) {
    if (!isOwnedTable(t))
      throw new ValidationError('nft.tables', t.name, `eucanet only manages tables named "${OWNED_TABLE_PREFIX}" or "${OWNED_TABLE_PREFIX}-*"`);
  }
  const before = b.length;
  const haveTables = new Set(cur.tables.map(tkey));
  const haveChains = new Map(cur.chains.map((c) => [okey({ ...c, name: c.name }), c]));
  const haveSets = new Map(cur.sets.map((s) => [okey(s), s]));
  const refill = new Set<string>(); // chains to flush and refill
  const fresh = new Set<string>(); // chains created now: filled without a flush

  for (const t of want.tables) if (!haveTables.has(tkey(t))) b.addTable(t);

  for (const c of want.chains) {
    const have = haveChains.get(okey(c));
    if (have && !sameChainHead(have, c)) {
      // Type, hook or priority cannot change in place.
      b.flushChain(have).deleteChain(have);
      b.addChain(c);
      fresh.add(okey(c));
    } else if (!have) {
      b.addChain(c);
      fresh.add(okey(c));
    } else if ((have.policy ?? 'accept') !== (c.policy ?? 'accept') && c.hook) {
      b.addChain(c); // NFT_MSG_NEWCHAIN on an existing chain updates its policy
    }
  }

  const recreated = new Set<string>();
  for (const s of want.sets) {
    const { elements: _e, ...def } = s;
    const have = haveSets.get(okey(s));
    if (have && !sameSetType(have, def)) {
      recreated.add(tkey(s));
      for (const c of cur.chains) if (tkey(c) === tkey(s)) refill.add(okey(c));
    }
  }
  // Chains whose rules refer to a set being recreated are emptied before the set goes.
  for (const c of cur.chains) if (refill.has(okey(c))) b.flushChain(c);
  for (const s of want.sets) {
    const { elements = [], ...def } = s;
    const have = haveSets.get(okey(s));
    const raw = have && sameSetType(have, def) ? cur.pairs?.get(okey(s)) : undefined;
    const pairs = raw ? (wantPairs?.has(s) ? wantPairs.get(s) : inputPairs(def, elements)) : undefined;
    if (have && raw && pairs) {
      diffPairs(b, have, def, raw.pairs, pairs);
      continue;
    }
    const wanted = parseElements(def, elements);
    if (!have || !sameSetType(have, def)) {
      if (have) b.deleteSet(have);
      b.addSet(def);
      if (wanted.length) b.addElements(def, wanted);
      continue;
    }
    const present = new Map((raw ? raw.full() : (cur.elements.get(okey(s)) ?? [])).map((e) => [elemKey(e), e]));
    const wantMap = new Map(wanted.map((e) => [elemKey(e), e]));
    const differs = (other: Map<string, SetElement>, k: string, e: SetElement) => {
      const o = other.get(k);
      return o === undefined || elemVal(o) !== elemVal(e);
    };
    const del = [...present].filter(([k, e]) => differs(wantMap, k, e)).map(([, e]) => e);
    const add = [...wantMap].filter(([k, e]) => differs(present, k, e)).map(([, e]) => e);
    if (del.length)
      b.deleteElements(
        have,
        del.map((e) => ({ key: e.key, ...(e.keyEnd ? { keyEnd: e.keyEnd } : {}) })),
      );
    if (add.length) b.addElements(def, add);
  }

  // Rules: a chain whose rule list differs is flushed and refilled.
  const haveRules = new Map<string, string[]>();
  for (const r of cur.rules) {
    const k = ckey(r);
    let list = haveRules.get(k);
    if (!list) haveRules.set(k, (list = []));
    list.push(ruleText(r.family, r.exprs, r.comment));
  }
  const wantRules = new Map<string, RuleSpec[]>();
  for (const r of want.rules) {
    const k = ckey(r);
    let list = wantRules.get(k);
    if (!list) wantRules.set(k, (list = []));
    list.push(r);
  }
  for (const c of want.chains) {
    const k = okey(c);
    const rules = wantRules.get(k) ?? [];
    // A chain made or refilled now takes its rules whatever they are: only
    // another is compared (its rules rendered), and flushed if it differs.
    if (!fresh.has(k) && !refill.has(k)) {
      const texts = rules.map((r) => ruleText(r.family, desiredExprs(r), r.comment));
      if (JSON.stringify(texts) === JSON.stringify(haveRules.get(k) ?? [])) continue;
      b.flushChain(c);
    }
    for (const r of rules) b.addRule(r);
  }

  // What is owned but no longer desired: whole tables first, then what is left in the wanted ones.
  for (const t of cur.tables) if (!want.tables.some((w) => tkey(w) === tkey(t))) b.deleteTable(t);
  const wantChains = new Set(want.chains.map(okey));
  const wantSets = new Set(want.sets.map(okey));
  const wantTables = new Set(want.tables.map(tkey));
  const gone = cur.chains.filter((c) => !wantChains.has(okey(c)) && wantTables.has(tkey(c)));
  for (const c of gone) b.flushChain(c);
  for (const c of gone) b.deleteChain(c);
  for (const s of cur.sets) if (!wantSets.has(okey(s)) && wantTables.has(tkey(s)) && !recreated.has(okey(s))) b.deleteSet(s);
  return b.length - before;
}
