// allocateNext: allocate() of successive versions of a state at the cost of
// what changed. Over random edits (as an etcd store's cache hands versions
// over: unchanged objects are the same objects), its output equals
// allocate(input, { validated: true }), item for item the same objects, and
// when only lists changed it reuses the previous output.
import { describe, expect, it } from 'vitest';
import { allocate, fullyAllocated } from '../../src/managed/allocate.js';
import { allocateNext, type AllocatedPair } from '../../src/managed/allocate-next.js';
import { withAllocations } from '../../src/managed/document.js';
import type { State } from '../../src/managed/types.js';
import { validateState } from '../../src/managed/validate.js';
import { uniform } from '../fuzz/prng.js';

function base(): State {
  const doc: State = {
    mode: 'MANAGED',
    segmentation: 'vxlan',
    subnet: '10.1.0.0/16',
    addrsPerNet: 64,
    cc: { publicInterface: 'eth0', privateInterface: 'eth1', underlay: '172.31.0.1/16' },
    nodes: { n0: { privateInterface: 'eth0', underlay: '172.31.0.2/16' }, n1: { privateInterface: 'eth0', underlay: '172.31.0.3/16' } },
    publicIps: ['172.16.0.1-172.16.0.50'],
    groups: ['a', 'b', 'c'].map((name) => ({ owner: 'u', name, rules: [] })),
    instances: Array.from({ length: 12 }, (_, k) => ({ id: `i-${k}`, group: `u/${'abc'[k % 3]}`, node: `n${k % 2}` })),
  };
  return withAllocations(doc, allocate(doc));
}

describe('allocateNext', () => {
  it('equals allocate over 400 random edits, the same item objects, reusing the previous output when only lists changed', () => {
    const r = uniform(3);
    let s = base();
    let prev: AllocatedPair | undefined;
    let reused = 0;
    let n = 100;
    for (let step = 0; step < 400; step++) {
      const x = r();
      const instances = [...(s.instances ?? [])];
      const k = Math.floor(r() * instances.length);
      if (x < 0.3 && instances.length) {
        // An instance's value changed (a new object, allocated).
        instances[k] = { ...instances[k], publicIp: instances[k].publicIp ? false : undefined };
        if (instances[k].publicIp === undefined) delete instances[k].publicIp;
        s = { ...s, instances };
      } else if (x < 0.45 && instances.length > 1) {
        instances.splice(k, 1);
        s = { ...s, instances };
      } else if (x < 0.6) {
        // A new instance, not allocated yet (allocate itself runs), then as the store would hand it back: allocated.
        const add = { id: `i-n${n++}`, group: 'u/b', node: 'n1' };
        instances.splice(k, 0, add);
        s = { ...s, instances };
        if (r() < 0.5) s = withAllocations(s, allocate(s));
      } else if (x < 0.75) {
        const groups = [...(s.groups ?? [])];
        const g = Math.floor(r() * groups.length);
        groups[g] = { ...groups[g], rules: [{ protocol: 'tcp', from: step, to: step, cidr: '0.0.0.0/0' }] };
        s = { ...s, groups };
      } else if (x < 0.85) s = { ...s, dns: `192.168.0.${step % 200}` };
      else if (x < 0.9) s = { ...s, nodes: { ...s.nodes } }; // the same values, another object
      // else: the same state again
      validateState(structuredClone(s));
      const want = allocate(s, { validated: true });
      const before = prev;
      prev = allocateNext(prev, s);
      expect(prev.output).toEqual(want);
      // With nothing left to allocate, allocate's items are canonical objects kept per input object: the same ones.
      if (fullyAllocated(s)) prev.output.instances.forEach((i, j) => expect(i).toBe(want.instances[j]));
      if (before && prev.output.nodes === before.output.nodes && prev.output !== before.output) reused++;
    }
    expect(reused).toBeGreaterThan(100);
  });

  it('an instance added to a fully allocated state keeps every other allocated object and the settings', () => {
    const s = base();
    const a = allocateNext(undefined, s);
    const more = withAllocations(
      { ...s, instances: [...(s.instances ?? []), { id: 'i-new', group: 'u/a', node: 'n0' }] },
      allocate({ ...s, instances: [...(s.instances ?? []), { id: 'i-new', group: 'u/a', node: 'n0' }] }),
    );
    const next = { ...s, instances: [...(s.instances ?? []), (more.instances ?? [])[12]] };
    const b = allocateNext(a, next);
    expect(b.output.vlanRange).toBe(a.output.vlanRange);
    expect(b.output.instances.slice(0, 12)).toEqual(a.output.instances);
    b.output.instances.slice(0, 12).forEach((i, j) => expect(i).toBe(a.output.instances[j]));
    expect(b.output).toEqual(allocate(next, { validated: true }));
  });

  it('keeps the previous list where the input has the same items, and copies only around what changed at either end', () => {
    const s = base();
    const a = allocateNext(undefined, s);
    const list = s.instances ?? [];
    // The same items in another array: the same output list.
    expect(allocateNext(a, { ...s, instances: [...list] }).output.instances).toBe(a.output.instances);
    // The first and the last taken away, one in the middle changed: each equals allocate, the rest the same objects.
    const edits: Array<State['instances']> = [
      list.slice(1),
      list.slice(0, -1),
      list.map((x, k) => (k === 5 ? { ...x, publicIp: false } : x)),
      [list[0], ...list.slice(2, 7), ...list.slice(8)],
    ];
    for (const instances of edits) {
      const next = { ...s, instances };
      const b = allocateNext(a, next);
      const want = allocate(next, { validated: true });
      expect(b.output).toEqual(want);
      b.output.instances.forEach((x, j) => expect(x).toBe(want.instances[j]));
    }
  });
});
