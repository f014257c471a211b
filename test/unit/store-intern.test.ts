// The file store's interner (src/store/intern.ts): objects paired by name
// across versions and compared by value, with no JSON text made of each.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Interner, sameJson } from '../../src/store/intern.js';

type Doc = { groups: Array<Record<string, unknown>>; instances: Array<Record<string, unknown>>; nodes: Record<string, unknown>; cc: unknown };

const doc = (n: number, tweak: (i: Record<string, unknown>, k: number) => Record<string, unknown> = (i) => i): Doc =>
  JSON.parse(
    JSON.stringify({
      groups: [{ owner: 'admin', name: 'g0', rules: [{ protocol: 'tcp', from: 22, cidr: '0.0.0.0/0' }] }],
      instances: Array.from({ length: n }, (_, k) => tweak({ id: `i-${k}`, group: 'admin/g0', node: 'nc1', port: `vn${k}` }, k)),
      nodes: { nc1: { privateInterface: 'eth0' } },
      cc: { publicInterface: 'eth0', privateInterface: 'eth1' },
    }),
  ) as Doc;

afterEach(() => vi.restoreAllMocks());

describe('Interner', () => {
  it('keeps the previous object for an equal one, a new one for a changed one, pairing by id', () => {
    const it0 = new Interner();
    const a = it0.intern(doc(3)) as Doc;
    const b = it0.intern(doc(3, (i, k) => (k === 1 ? { ...i, port: 'other' } : i))) as Doc;
    expect(b.instances[0]).toBe(a.instances[0]);
    expect(b.instances[2]).toBe(a.instances[2]);
    expect(b.instances[1]).not.toBe(a.instances[1]);
    expect(b.instances[1].port).toBe('other');
    expect(b.groups[0]).toBe(a.groups[0]);
    expect(b.nodes.nc1).toBe(a.nodes.nc1);
    expect(b.cc).toBe(a.cc);
  });

  it('an object whose keys come in another order is the same content: kept', () => {
    const it0 = new Interner();
    const a = it0.intern(doc(2)) as Doc;
    const b = it0.intern(doc(2, (i) => ({ port: i.port, node: i.node, group: i.group, id: i.id }))) as Doc;
    expect(b.instances[0]).toBe(a.instances[0]);
    expect(b.instances[1]).toBe(a.instances[1]);
  });

  it('an id twice in one version: the second object is its own (never one object for two entries)', () => {
    const it0 = new Interner();
    it0.intern(doc(2));
    const b = it0.intern(doc(2, (i) => ({ ...i, id: 'i-0' }))) as Doc;
    expect(b.instances[0]).not.toBe(b.instances[1]);
  });

  it('makes no JSON text of the objects (5000 instances)', () => {
    const it0 = new Interner();
    const first = doc(5000);
    const second = doc(5000, (i, k) => (k === 7 ? { ...i, node: 'nc2' } : i));
    const spy = vi.spyOn(JSON, 'stringify');
    it0.intern(first);
    const b = it0.intern(second) as Doc;
    expect(spy).not.toHaveBeenCalled();
    expect(b.instances[7].node).toBe('nc2');
  });

  it('sameJson: values, arrays in order, objects in any key order', () => {
    expect(sameJson({ a: [1, { b: null }], c: 'x' }, { c: 'x', a: [1, { b: null }] })).toBe(true);
    expect(sameJson([1, 2], [2, 1])).toBe(false);
    expect(sameJson({ a: 1 }, { a: 1, b: 2 })).toBe(false);
    expect(sameJson({ a: 1, b: 2 }, { a: 1, c: 2 })).toBe(false);
    expect(sameJson({}, [])).toBe(false);
    expect(sameJson(1, '1')).toBe(false);
  });
});
