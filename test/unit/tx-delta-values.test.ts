// The big sections of a delta (ports, FDB entries, set elements: one per
// instance) compared by value (src/tx/delta.ts sameValue), not as text: equal
// exactly when their JSON would be equal up to key order, and a change in the
// middle of thousands found exactly.
import { describe, expect, it } from 'vitest';
import { deltaOf, sameValue } from '../../src/tx/delta.js';
import type { DesiredState } from '../../src/tx/desired.js';

const fdb = (k: number) => ({
  dev: 'vx10',
  lladdr: `d0:0d:0a:00:${(k >> 8).toString(16).padStart(2, '0')}:${(k & 255).toString(16).padStart(2, '0')}`,
  dst: '192.168.100.11',
  self: true,
});
const many = Array.from({ length: 3000 }, (_, k) => fdb(k));
const withFdb = (entries: DesiredState['fdb'], pub: Array<[string, string]> = []): DesiredState => ({
  links: [],
  fdb: entries,
  nft: {
    tables: [{ family: 'ip', name: 'eucanet' }],
    chains: [],
    sets: [{ family: 'ip', table: 'eucanet', name: 'pub2priv', key: 'ipv4_addr', data: 'ipv4_addr', elements: pub }],
    rules: [],
  },
});

describe('sameValue', () => {
  it('is equality of plain data: key order and undefined keys do not count, bytes, bigints and nesting do', () => {
    expect(sameValue({ a: 1, b: [1, { c: 'x' }] }, { b: [1, { c: 'x' }], a: 1 })).toBe(true);
    expect(sameValue({ a: 1, b: undefined }, { a: 1 })).toBe(true);
    expect(sameValue({ a: 1 }, { a: 1, b: 0 })).toBe(false);
    expect(sameValue([1, 2], [2, 1])).toBe(false);
    expect(sameValue(new Uint8Array([1, 2]), new Uint8Array([1, 2]))).toBe(true);
    expect(sameValue(new Uint8Array([1, 2]), new Uint8Array([1, 3]))).toBe(false);
    expect(sameValue(new Uint8Array([1, 2]), [1, 2])).toBe(false);
    expect(sameValue(5n, 5n)).toBe(true);
    expect(sameValue({ v: 5n }, { v: 6n })).toBe(false);
    expect(sameValue(null, {})).toBe(false);
  });
});

describe('deltaOf on thousands of entries', () => {
  it('finds the one FDB entry added, removed or changed in the middle of 3000, and nothing when they are equal', () => {
    expect(deltaOf(withFdb(many), withFdb([...many])).fdb).toBe(false);
    const added = [...many.slice(0, 1500), fdb(9999), ...many.slice(1500)];
    expect(deltaOf(withFdb(many), withFdb(added)).fdbChange).toEqual({ add: [fdb(9999)], del: [] });
    const removed = many.filter((_, k) => k !== 700);
    expect(deltaOf(withFdb(many), withFdb(removed)).fdbChange).toEqual({ add: [], del: [fdb(700)] });
    const changed = many.map((e, k) => (k === 2000 ? { ...e, dst: '192.168.100.12' } : e));
    expect(deltaOf(withFdb(many), withFdb(changed)).fdbChange).toEqual({ add: [{ ...fdb(2000), dst: '192.168.100.12' }], del: [fdb(2000)] });
  });

  it("finds a map element whose value changed (in both lists), and a set's elements unchanged in another order of keys", () => {
    const pub: Array<[string, string]> = Array.from({ length: 2000 }, (_, k) => [`172.16.${k >> 8}.${k & 255}`, `10.0.${k >> 8}.${k & 255}`]);
    const moved = pub.map((e, k): [string, string] => (k === 1000 ? [e[0], '10.9.9.9'] : e));
    const d = deltaOf(withFdb([], pub), withFdb([], moved));
    expect(d.nft.sets.get('ip eucanet pub2priv')).toEqual({ add: [['172.16.3.232', '10.9.9.9']], del: [['172.16.3.232', '10.0.3.232']] });
    expect(
      deltaOf(
        withFdb([], pub),
        withFdb(
          [],
          pub.map((e) => [...e] as [string, string]),
        ),
      ).nft.sets.size,
    ).toBe(0);
  });
});

describe('deltaOf on thousands of ports', () => {
  const port = (k: number) => ({ name: `vn${k}`, master: `eucabr${10 + (k % 6)}`, up: true, tap: true });
  const ports = Array.from({ length: 3000 }, (_, k) => port(k));
  const withPorts = (p: unknown[]): DesiredState => ({ links: [], ports: p as DesiredState['ports'] });
  /** The ports behind Proxies counting the reads of their names: comparing two ports by value reads them 4 times, grouping by name once more each. */
  const named = (list: ReturnType<typeof port>[], reads: { n: number }) =>
    list.map(
      (p) =>
        new Proxy(p, {
          get(t, k, r) {
            if (k === 'name') reads.n++;
            return Reflect.get(t, k, r) as unknown;
          },
        }),
    );

  it('finds the port added, removed or changed among 3000; the equal head and tail are not grouped by name', () => {
    expect(deltaOf(withPorts(ports), withPorts([...ports])).ports.size).toBe(0);
    const reads = { n: 0 };
    const added = [...ports.slice(0, 1500), port(9999), ...ports.slice(1500)];
    expect([...deltaOf(withPorts(named(ports, reads)), withPorts(named(added, reads))).ports]).toEqual(['vn9999']);
    // One comparison per port pair of the head and tail, and the one in the middle grouped: not all 6001 grouped and compared again (18001 reads).
    expect(reads.n).toBeLessThanOrEqual(4 * 3000 + 10);
    expect([...deltaOf(withPorts(ports), withPorts(ports.filter((_, k) => k !== 700))).ports]).toEqual(['vn700']);
    const changed = ports.map((p, k) => (k === 2000 ? { ...p, master: 'eucabr99' } : p));
    expect([...deltaOf(withPorts(ports), withPorts(changed)).ports]).toEqual(['vn2000']);
    // Reordered: every port whose position moved is in the rest, grouped by name: equal, so nothing changed.
    expect(deltaOf(withPorts(ports), withPorts([...ports.slice(1), ports[0]])).ports.size).toBe(0);
  });
});
