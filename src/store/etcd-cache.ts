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
import { parseKey, type Parsed } from './etcd-layout.js';

interface Entry {
  value: string;
  mod: number;
  /** The parsed value, filled on first assembly. */
  parsed?: Parsed;
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
      if (e.type === 'Delete') this.entries.delete(key);
      else {
        if (!this.entries.has(key)) this.unsorted = true;
        this.entries.set(key, { value: e.kv.value.toString('utf8'), mod: rev });
      }
      if (rev > newest) newest = rev;
    }
    if (newest > this.through) this.through = newest;
    this.version = Math.max(this.version, newest);
  }

  /** A transaction of this process that succeeded at revision `rev` on top of the cache's version. */
  applyOwn(put: [string, string][], del: string[], rev: number): void {
    for (const k of del) this.entries.delete(k);
    for (const [k, v] of put) {
      if (!this.entries.has(k)) this.unsorted = true;
      this.entries.set(k, { value: v, mod: rev });
    }
    this.through = Math.max(this.through, rev);
    this.version = Math.max(this.version, rev);
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
    for (const [key, e] of this.sorted()) {
      if (!e.parsed) {
        try {
          e.parsed = parseKey(key, e.value);
        } catch (err) {
          const v = e.value.length > 40 ? `${e.value.slice(0, 40)}…` : e.value;
          throw new ValidationError(`${where}${key}`, v, `not JSON (${(err as Error).message})`);
        }
      }
      yield [key, e.parsed];
    }
  }
}
