// The etcd store's cache of the state's keys (etcd.ts): each key under the
// state prefix with its value, mod revision and parsed object, as of one
// revision (`through`). Built from one range read, then moved forward by the
// watch's events, a whole watch response at a time (the events of one
// transaction share a revision and come in one response), so that what it
// holds is always the prefix at one revision, never a mix. An assembled
// state re-parses only the keys that changed since the last assembly: the
// parsed objects are kept per key.
import { ValidationError } from '../errors.js';
import { assemble, DELETED_KEY, parseKey, type Parsed } from './etcd-layout.js';

interface Entry {
  value: string;
  mod: number;
  /** The parsed value, filled on first assembly. */
  parsed?: Parsed;
}

type ListName = 'groups' | 'instances';

/** The last assembled state, and the order number of each item of its lists (ascending, parallel to the lists). */
interface Assembled {
  doc: Record<string, unknown>;
  orders: Record<ListName, number[]>;
}

/** What happened to one group's or instance's key since the last assembly: where it was (its list and order), if it was in it. */
interface Change {
  was?: { list: ListName; order: number };
}

/** One watch event, as the cache needs it: etcd3's (Buffers, a decimal revision) or the lean watch's (text, a number). */
export interface CacheEvent {
  type: 'Put' | 'Delete';
  kv: { key: Buffer | string; value: Buffer | string; mod_revision: string | number };
}

const text = (b: Buffer | string): string => (typeof b === 'string' ? b : b.toString('utf8'));

const listOf = (p: Parsed | undefined): ListName | undefined => (p?.kind === 'group' ? 'groups' : p?.kind === 'instance' ? 'instances' : undefined);

/** The index of `order` in the ascending `orders` (found: true), or where it would go. */
function search(orders: number[], order: number): { at: number; found: boolean } {
  let lo = 0;
  let hi = orders.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (orders[mid] < order) lo = mid + 1;
    else hi = mid;
  }
  return { at: lo, found: orders[lo] === order };
}

/** A list's edit since the last assembly: the places of the items that went (or changed), and the items now there (with their orders). */
interface Edit {
  out: Set<number>;
  ins: { order: number; v: unknown }[];
}

/**
 * The list (and its orders) with `edit` made: the runs of unchanged items
 * copied as slices and joined once, so that one instance run or terminated
 * in a cloud of 5000 costs two copies of the list's pointers, not a copy that
 * grows as an insertion needs; undefined when two items would share an order.
 */
function edited(items: unknown[], orders: number[], edit: Edit): { items: unknown[]; orders: number[] } | undefined {
  const ins = edit.ins.sort((a, b) => a.order - b.order);
  const cuts = [...edit.out].sort((a, b) => a - b);
  const partsI: unknown[][] = [];
  const partsO: number[][] = [];
  let from = 0;
  let r = 0;
  const keep = (to: number) => {
    // The whole list as it is when nothing before or after it changed (an item appended): concat copies it once.
    if (to > from) {
      const all = from === 0 && to === items.length;
      partsI.push(all ? items : items.slice(from, to));
      partsO.push(all ? orders : orders.slice(from, to));
    }
  };
  // The unchanged items before place `at`, the ones that went skipped.
  const upTo = (at: number) => {
    for (; r < cuts.length && cuts[r] < at; r++) {
      keep(cuts[r]);
      from = cuts[r] + 1;
    }
    keep(at);
    from = Math.max(from, at);
  };
  for (let k = 0; k < ins.length; k++) {
    const x = ins[k];
    if (k > 0 && x.order === ins[k - 1].order) return undefined;
    const at = search(orders, x.order);
    if (at.found && !edit.out.has(at.at)) return undefined;
    upTo(at.at);
    partsI.push([x.v]);
    partsO.push([x.order]);
  }
  upTo(items.length);
  return { items: ([] as unknown[]).concat(...partsI), orders: ([] as number[]).concat(...partsO) };
}

export class KeyCache {
  private readonly entries = new Map<string, Entry>();
  /** Keys were added since the map was last sorted (a fresh range read has them in key order). */
  private unsorted = false;
  /** Every change under the prefix up to this revision is in the cache. */
  through: number;
  /** The state's version: the newest mod revision among the keys (0: no keys). */
  version = 0;
  /** The last assembled state (assembled()), and the group and instance keys put or deleted since. */
  private last: Assembled | undefined;
  private readonly changed = new Map<string, Change>();
  /** Something but a group or an instance changed since the last assembly (settings, a node, ...): the next one is a full one. */
  private reshaped = false;

  /** From a range read at revision `through`: keys relative to the prefix. */
  constructor(kvs: { key: string; value: string; mod: number }[], through: number) {
    this.through = through;
    for (const kv of kvs) {
      this.entries.set(kv.key, { value: kv.value, mod: kv.mod });
      if (kv.mod > this.version) this.version = kv.mod;
    }
  }

  /**
   * Applies one watch response's events (relative keys: `prefix` is cut).
   * Events at or before `through` are already in the cache and skipped.
   */
  apply(prefix: string, events: CacheEvent[]): void {
    let newest = this.through;
    for (const e of events) {
      const rev = Number(e.kv.mod_revision);
      if (rev <= this.through) continue;
      const key = text(e.kv.key).slice(prefix.length);
      if (e.type === 'Delete') this.delete(key);
      else this.put(key, text(e.kv.value), rev);
      if (rev > newest) newest = rev;
    }
    if (newest > this.through) this.through = newest;
    this.version = Math.max(this.version, newest);
  }

  /** A transaction of this process that succeeded at revision `rev` on top of the cache's version. */
  applyOwn(put: [string, string][], del: string[], rev: number): void {
    for (const k of del) this.delete(k);
    for (const [k, v] of put) this.put(k, v, rev);
    this.through = Math.max(this.through, rev);
    this.version = Math.max(this.version, rev);
  }

  /** Notes that `key` changes: a group's or instance's key keeps where it was in the last assembly; any other key (but the `deleted` marker) reshapes. */
  private touch(key: string, before: Entry | undefined): void {
    if (key === DELETED_KEY) return;
    if (!key.startsWith('groups/') && !key.startsWith('instances/')) {
      this.reshaped = true;
      return;
    }
    if (this.changed.has(key)) return;
    const list = listOf(before?.parsed);
    const p = before?.parsed as { order: number } | undefined;
    // A key that was there but never parsed cannot be placed: a full assembly.
    if (before && (!list || !p)) this.reshaped = true;
    this.changed.set(key, list && p ? { was: { list, order: p.order } } : {});
  }

  private put(key: string, value: string, mod: number): void {
    const before = this.entries.get(key);
    if (!before) this.unsorted = true;
    this.touch(key, before);
    this.entries.set(key, { value, mod });
  }

  private delete(key: string): void {
    const before = this.entries.get(key);
    if (!before) return;
    this.touch(key, before);
    this.entries.delete(key);
  }

  /**
   * The state assembled from the keys (etcd-layout.ts assemble), not yet
   * validated. When only groups and instances changed since the last
   * assembly (values changed, keys added or deleted: an authorize, a
   * run-instance, a terminate), the last state's lists are copied, the
   * changed objects replaced, the new ones inserted at their order and the
   * deleted ones removed: the cost of what changed, not of the whole cloud.
   * Otherwise (settings, nodes or reserved addresses changed, orders not
   * distinct, a list appearing or emptied) a full assembly.
   */
  assembled(where: string): unknown {
    const last = this.last;
    if (last && !this.reshaped) {
      const doc = this.patched(last, where);
      if (doc) return doc;
    }
    const doc = assemble(this.parsed(where)) as Record<string, unknown> | undefined;
    this.changed.clear();
    this.reshaped = false;
    this.last = doc ? this.ordersOf(doc) : undefined;
    return doc;
  }

  /** The last state with the changed groups and instances replaced, removed or inserted, or undefined when that cannot be done exactly. */
  private patched(last: Assembled, where: string): Record<string, unknown> | undefined {
    if (!this.changed.size) return last.doc;
    const edits: Partial<Record<ListName, Edit>> = {};
    const editOf = (name: ListName) => (last.doc[name] ? (edits[name] ??= { out: new Set(), ins: [] }) : undefined);
    // Where the changed keys were (their places in the last lists), then what they are now.
    for (const [, c] of this.changed) {
      if (!c.was) continue;
      const e = editOf(c.was.list);
      const at = e && search(last.orders[c.was.list], c.was.order);
      if (!e || !at?.found) return undefined;
      e.out.add(at.at);
    }
    for (const [key] of this.changed) {
      const p = this.parse(key, where);
      if (p === undefined) continue; // deleted
      const name = listOf(p);
      const e = name && editOf(name);
      if (!e) return undefined;
      e.ins.push(p as { order: number; v: unknown });
    }
    const doc: Record<string, unknown> = { ...last.doc };
    const orders = { ...last.orders };
    for (const name of ['groups', 'instances'] as const) {
      const e = edits[name];
      if (!e) continue;
      const l = edited(last.doc[name] as unknown[], last.orders[name], e);
      // Two keys with one order (the full assembly's tie-break by key), or an emptied list (the full assembly leaves the key out).
      if (!l?.items.length) return undefined;
      doc[name] = l.items;
      orders[name] = l.orders;
    }
    this.changed.clear();
    this.last = { doc, orders };
    return doc;
  }

  /** The order numbers of `doc`'s groups and instances (from their keys' parsed values); with two equal, none (every later change is a full assembly). */
  private ordersOf(doc: Record<string, unknown>): Assembled | undefined {
    const orders: Record<ListName, number[]> = { groups: [], instances: [] };
    for (const e of this.entries.values()) {
      const name = listOf(e.parsed);
      if (name) orders[name].push((e.parsed as { order: number }).order);
    }
    for (const name of ['groups', 'instances'] as const) {
      const o = orders[name].sort((a, b) => a - b);
      for (let i = 1; i < o.length; i++) if (o[i] === o[i - 1]) return undefined;
    }
    return { doc, orders };
  }

  /** One key's parsed value (parsed once); a value that is not JSON throws naming its key. */
  private parse(key: string, where: string): Parsed | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (!e.parsed) {
      try {
        e.parsed = parseKey(key, e.value);
      } catch (err) {
        const v = e.value.length > 40 ? `${e.value.slice(0, 40)}…` : e.value;
        throw new ValidationError(`${where}${key}`, v, `not JSON (${(err as Error).message})`);
      }
    }
    return e.parsed;
  }

  /** key -> value (relative keys), for a write's diff. */
  values(): Map<string, string> {
    const out = new Map<string, string>();
    for (const [k, e] of this.sorted()) out.set(k, e.value);
    return out;
  }

  private sorted(): Map<string, Entry> {
    if (this.unsorted) {
      const all = [...this.entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      this.entries.clear();
      for (const [k, e] of all) this.entries.set(k, e);
      this.unsorted = false;
    }
    return this.entries;
  }

  /** The parsed objects in key order (each key parsed once); a value that is not JSON throws naming its key. */
  *parsed(where: string): Generator<[string, Parsed]> {
    for (const key of this.sorted().keys()) yield [key, this.parse(key, where) as Parsed];
  }
}
