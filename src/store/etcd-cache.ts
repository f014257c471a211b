// The etcd store's cache of the state's keys (etcd.ts): each key under the
// state prefix with its value, mod revision and parsed object, as of one
// revision (`through`). Built from one range read, then moved forward by the
// watch's events, a whole watch response at a time (the events of one
// transaction share a revision and come in one response), so that what it
// holds is always the prefix at one revision, never a mix. An assembled
// state re-parses only the keys that changed since the last assembly: the
// parsed objects are kept per key.
import type { IKeyValue } from 'etcd3';
import { ValidationError } from '../errors.js';
import { assemble, parseKey, type Parsed } from './etcd-layout.js';

interface Entry {
  value: string;
  mod: number;
  /** The parsed value, filled on first assembly. */
  parsed?: Parsed;
}

/** Where a group's or an instance's object is in the last assembled state, and its order number. */
interface Slot {
  list: 'groups' | 'instances';
  index: number;
  order: number;
}

/** The last assembled state and where each group and instance is in it. */
interface Assembled {
  doc: Record<string, unknown>;
  slots: Map<string, Slot>;
}

/** One watch event, as the cache needs it. */
export interface CacheEvent {
  type: 'Put' | 'Delete';
  kv: Pick<IKeyValue, 'key' | 'value' | 'mod_revision'>;
}

export class KeyCache {
  private readonly entries = new Map<string, Entry>();
  /** Keys were added since the map was last sorted (a fresh range read has them in key order). */
  private unsorted = false;
  /** Every change under the prefix up to this revision is in the cache. */
  through: number;
  /** The state's version: the newest mod revision among the keys (0: no keys). */
  version = 0;
  /** The last assembled state (assembled()), and the keys whose value changed since. */
  private last: Assembled | undefined;
  private readonly changed = new Set<string>();
  /** A key was added or deleted since the last assembly: the next one is a full one. */
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
      const key = e.kv.key.toString().slice(prefix.length);
      if (e.type === 'Delete') this.delete(key);
      else this.put(key, e.kv.value.toString('utf8'), rev);
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

  private put(key: string, value: string, mod: number): void {
    if (this.entries.has(key)) this.changed.add(key);
    else this.unsorted = this.reshaped = true;
    this.entries.set(key, { value, mod });
  }

  private delete(key: string): void {
    if (this.entries.delete(key)) this.reshaped = true;
  }

  /**
   * The state assembled from the keys (etcd-layout.ts assemble), not yet
   * validated. When only values of groups and instances changed since the
   * last assembly, each keeping its order number (an authorize, a revoke, an
   * association), the last state's lists are copied and only those objects
   * replaced: the cost of what changed, not of the whole cloud. Otherwise
   * (keys added or deleted, settings or nodes changed) a full assembly.
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
    this.last = doc ? { doc, slots: this.slotsOf(doc) } : undefined;
    return doc;
  }

  /** The last state with the changed groups and instances replaced in place, or undefined when a change moves or reshapes it. */
  private patched(last: Assembled, where: string): Record<string, unknown> | undefined {
    const lists: Partial<Record<Slot['list'], unknown[]>> = {};
    for (const key of this.changed) {
      const slot = last.slots.get(key);
      const p = this.parse(key, where);
      if (!slot || p === undefined || (p.kind !== 'group' && p.kind !== 'instance') || p.order !== slot.order) return undefined;
      const list = (lists[slot.list] ??= [...(last.doc[slot.list] as unknown[])]);
      list[slot.index] = p.v;
    }
    const doc = { ...last.doc, ...lists };
    this.changed.clear();
    this.last = { doc, slots: last.slots };
    return doc;
  }

  /** Where each group's and instance's object is in `doc` (found by identity). */
  private slotsOf(doc: Record<string, unknown>): Map<string, Slot> {
    const at = new Map<unknown, [Slot['list'], number]>();
    for (const list of ['groups', 'instances'] as const) ((doc[list] as unknown[] | undefined) ?? []).forEach((v, i) => at.set(v, [list, i]));
    const slots = new Map<string, Slot>();
    for (const [key, e] of this.entries) {
      const p = e.parsed;
      if (!p || (p.kind !== 'group' && p.kind !== 'instance')) continue;
      const where = at.get(p.v);
      if (where) slots.set(key, { list: where[0], index: where[1], order: p.order });
    }
    return slots;
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
