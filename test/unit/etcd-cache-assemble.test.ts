// The etcd store's key cache assembles a state at the cost of what changed
// (etcd-cache.ts assembled): after any sequence of watch events, the state it
// gives equals a full assembly of the same keys from scratch (fromKeys), and
// a change of rules or of one instance's values copies nothing but the lists.
import { describe, expect, it } from 'vitest';
import { KeyCache, type CacheEvent } from '../../src/store/etcd-cache.js';
import { fromKeys, toKeys } from '../../src/store/etcd-layout.js';
import type { State } from '../../src/managed/types.js';
import { uniform } from '../fuzz/prng.js';

const P = '/eucanet/t/state/';

const rng = uniform;

const state: State = {
  mode: 'MANAGED',
  subnet: '10.1.0.0/16',
  addrsPerNet: 32,
  cc: { publicInterface: 'eth0', privateInterface: 'eth1' },
  nodes: { n0: { privateInterface: 'eth0' }, n1: { privateInterface: 'eth0' } },
  groups: ['a', 'b', 'c'].map((name) => ({ owner: 'u', name, rules: [] })),
  instances: Array.from({ length: 12 }, (_, k) => ({ id: `i-${k}`, group: `u/${'abc'[k % 3]}`, node: `n${k % 2}` })),
};

let rev = 1;
const put = (key: string, value: string): CacheEvent => ({
  type: 'Put',
  kv: { key: Buffer.from(P + key), value: Buffer.from(value), mod_revision: String(++rev) },
});
const del = (key: string): CacheEvent => ({ type: 'Delete', kv: { key: Buffer.from(P + key), value: Buffer.from(''), mod_revision: String(++rev) } });

describe('KeyCache.assembled', () => {
  it('equals a full assembly after every one of 500 random watch responses', () => {
    const r = rng(5);
    const keys = toKeys(state);
    const cache = new KeyCache(
      [...keys].map(([key, value]) => ({ key, value, mod: 1 })),
      1,
    );
    let patched = 0;
    for (let step = 0; step < 500; step++) {
      const before = cache.assembled(P) as State;
      const names = [...keys.keys()].filter((k) => k.startsWith('instances/') || k.startsWith('groups/'));
      const key = names[Math.floor(r() * names.length)];
      const x = r();
      const evs: CacheEvent[] = [];
      const o = JSON.parse(keys.get(key) ?? '{}') as Record<string, unknown> & { order: number };
      if (x < 0.5)
        evs.push(put(key, JSON.stringify({ ...o, note: step }))); // a value changed, same order
      else if (x < 0.6)
        evs.push(put(key, JSON.stringify({ ...o, order: o.order + 100 }))); // moved
      else if (x < 0.7 && key.startsWith('instances/')) evs.push(del(key));
      else if (x < 0.8) evs.push(put(`instances/i-x${step}`, JSON.stringify({ id: `i-x${step}`, group: 'u/a', node: 'n0', order: 1000 + step })));
      else if (x < 0.9) evs.push(put('settings', JSON.stringify({ mode: 'MANAGED', subnet: '10.1.0.0/16', addrsPerNet: step % 2 ? 32 : 64 })));
      else evs.push(put(key, JSON.stringify({ ...o, a: 1 })), put(names[0], keys.get(names[0]) as string));
      for (const e of evs) {
        const k = e.kv.key.toString().slice(P.length);
        if (e.type === 'Delete') keys.delete(k);
        else keys.set(k, e.kv.value.toString());
      }
      cache.apply(P, evs);
      const after = cache.assembled(P) as State;
      expect(after).toEqual(fromKeys(cache.values(), P));
      expect(cache.values()).toEqual(new Map([...keys].sort(([a], [b]) => (a < b ? -1 : 1))));
      if (after.nodes === before.nodes && after !== before) patched++;
    }
    expect(patched).toBeGreaterThan(150);
  });

  it('a changed rule copies the lists and replaces one group: the instances are the same objects', () => {
    const keys = toKeys(state);
    const cache = new KeyCache(
      [...keys].map(([key, value]) => ({ key, value, mod: 1 })),
      1,
    );
    const a = cache.assembled(P) as State;
    const g = JSON.parse(keys.get('groups/u/b') as string) as Record<string, unknown>;
    cache.apply(P, [put('groups/u/b', JSON.stringify({ ...g, rules: [{ protocol: 'tcp', from: 22, cidr: '0.0.0.0/0' }] }))]);
    const b = cache.assembled(P) as State;
    expect(b.instances).toBe(a.instances);
    expect(b.groups?.[0]).toBe(a.groups?.[0]);
    expect(b.groups?.[1]?.rules).toEqual([{ protocol: 'tcp', from: 22, cidr: '0.0.0.0/0' }]);
    expect(a.groups?.[1]?.rules).toEqual([]);
  });

  it('an instance run or terminated is patched into the lists: no full assembly, every other object the same', () => {
    const keys = toKeys(state);
    const cache = new KeyCache(
      [...keys].map(([key, value]) => ({ key, value, mod: 1 })),
      1,
    );
    const a = cache.assembled(P) as State;
    // A run-instance: one new key, its order after the last.
    cache.apply(P, [put('instances/i-new', JSON.stringify({ id: 'i-new', group: 'u/a', node: 'n1', order: 50 }))]);
    const b = cache.assembled(P) as State;
    expect(b.nodes).toBe(a.nodes); // the settings were not assembled again
    expect(b.instances?.map((i) => i.id)).toEqual([...(a.instances ?? []).map((i) => i.id), 'i-new']);
    (a.instances ?? []).forEach((i, k) => expect(b.instances?.[k]).toBe(i));
    // A terminate: its key deleted and the `deleted` marker put, in one response.
    cache.apply(P, [del('instances/i-3'), put('deleted', '1')]);
    const c = cache.assembled(P) as State;
    expect(c.nodes).toBe(a.nodes);
    expect(c.instances?.map((i) => i.id)).not.toContain('i-3');
    expect(c.instances?.length).toBe(12);
    expect(c.groups).toBe(a.groups);
    expect(c).toEqual(fromKeys(cache.values(), P));
  });

  it('equals a full assembly after 2000 random responses of several puts and deletes (moves, equal orders, emptied lists)', () => {
    const r = rng(11);
    const keys = toKeys(state);
    const cache = new KeyCache(
      [...keys].map(([key, value]) => ({ key, value, mod: 1 })),
      1,
    );
    let patched = 0;
    for (let step = 0; step < 2000; step++) {
      const before = cache.assembled(P) as State | undefined;
      const evs: CacheEvent[] = [];
      for (let n = 1 + Math.floor(r() * 3); n > 0; n--) {
        const names = [...keys.keys()].filter((k) => k.startsWith('instances/') || k.startsWith('groups/'));
        const key = names.length ? names[Math.floor(r() * names.length)] : 'instances/i-0';
        const o = JSON.parse(keys.get(key) ?? '{"order":0}') as Record<string, unknown> & { order: number };
        const x = r();
        let e: CacheEvent;
        if (x < 0.25) e = put(key, JSON.stringify({ ...o, note: step }));
        else if (x < 0.35)
          e = put(key, JSON.stringify({ ...o, order: Math.floor(r() * 40) })); // moved, maybe onto another's order
        else if (x < 0.6) e = del(key);
        else if (x < 0.9) {
          const id = `i-y${Math.floor(r() * 30)}`;
          e = put(`instances/${id}`, JSON.stringify({ id, group: 'u/a', node: 'n0', order: Math.floor(r() * 60) }));
        } else if (x < 0.95) e = put(`groups/u/z${Math.floor(r() * 4)}`, JSON.stringify({ owner: 'u', name: 'z', rules: [], order: Math.floor(r() * 9) }));
        else e = put('deleted', String(step));
        evs.push(e);
        const k = e.kv.key.toString().slice(P.length);
        if (e.type === 'Delete') keys.delete(k);
        else keys.set(k, e.kv.value.toString());
      }
      cache.apply(P, evs);
      const after = cache.assembled(P) as State;
      expect(after).toEqual(fromKeys(cache.values(), P));
      if (before && after.nodes === before.nodes && after !== before) patched++;
    }
    expect(patched).toBeGreaterThan(200);
  });

  it('a value that is not JSON is refused naming its key, and the next good value is assembled', () => {
    const keys = toKeys(state);
    const cache = new KeyCache(
      [...keys].map(([key, value]) => ({ key, value, mod: 1 })),
      1,
    );
    cache.assembled(P);
    cache.apply(P, [put('instances/i-3', '{oops')]);
    expect(() => cache.assembled(P)).toThrow(/instances\/i-3/);
    cache.apply(P, [put('instances/i-3', keys.get('instances/i-3') as string)]);
    expect(cache.assembled(P)).toEqual(fromKeys(keys, P));
  });
});
