// roles/flood-counts.ts floodDiff: the node's FDB entries as counts moved from
// version to version by the changed instances. Over chains of random
// run-instance, terminate and move versions (so that the counts are carried
// forward many times, not only built), its answer must be floodChange's (the
// walk of the carried groups), entry for entry and in order; counts that
// disagree with the change given must make it decline.
import { describe, expect, it } from 'vitest';
import { versionChange } from '../../src/agent/relevance.js';
import { allocate } from '../../src/managed/allocate.js';
import { floodDiff } from '../../src/managed/roles/flood-counts.js';
import { floodChange } from '../../src/managed/roles/flood.js';
import type { AllocatedState, State } from '../../src/managed/types.js';
import { uniform } from '../fuzz/prng.js';
import { cloudSettings } from '../helpers/random-cloud.js';

const NODES = ['n0', 'n1', 'n2', 'n3', 'n4'];
const GROUPS = ['a', 'b', 'c'];
const MACS = Array.from({ length: 6 }, (_, k) => `d0:0d:0a:09:00:${k.toString(16).padStart(2, '0')}`);
const pickOf = <T>(xs: readonly T[], r: () => number): T => xs[Math.floor(r() * xs.length)];

function first(r: () => number, serial: { n: number }): AllocatedState {
  const groups = GROUPS.map((name) => ({ owner: 'u', name, rules: [] }));
  const instances = Array.from({ length: 6 + Math.floor(r() * 6) }, () => ({
    id: `i-${serial.n++}`,
    group: `u/${pickOf(GROUPS, r)}`,
    node: pickOf(NODES, r),
    // Some MACs shared by two instances, so that an entry has two makers.
    ...(r() < 0.3 ? { mac: pickOf(MACS, r) } : {}),
  }));
  try {
    return allocate({ mode: 'MANAGED', segmentation: 'vxlan', ...cloudSettings(NODES), groups, instances });
  } catch {
    return first(r, serial); // a state the schema refuses (a MAC shared where it may not be) is no version
  }
}

/** The next version: one edit, the unchanged instances the same objects (as the etcd store's cache hands them). */
function edited(prev: AllocatedState, r: () => number, serial: { n: number }): AllocatedState | undefined {
  const doc = { ...prev, instances: [...prev.instances] } as State;
  const list = doc.instances ?? [];
  const k = r();
  if (k < 0.45) list.push({ id: `i-${serial.n++}`, group: `u/${pickOf(GROUPS, r)}`, node: pickOf(NODES, r), ...(r() < 0.3 ? { mac: pickOf(MACS, r) } : {}) });
  else if (k < 0.85) list.splice(Math.floor(r() * list.length), 1);
  else {
    const at = Math.floor(r() * list.length);
    list[at] = { ...list[at], node: pickOf(NODES, r), port: undefined };
  }
  try {
    const next = allocate(doc);
    // allocate copies: hand the unchanged instances over as the previous objects.
    const had = new Map(prev.instances.map((i) => [JSON.stringify(i), i]));
    return { ...next, instances: next.instances.map((i) => had.get(JSON.stringify(i)) ?? i) };
  } catch {
    return undefined;
  }
}

describe('floodDiff (the FDB change from counts carried forward)', () => {
  it("equals floodChange's walk, entry for entry, along chains of 40 versions per node", () => {
    const r = uniform(41);
    const serial = { n: 0 };
    let compared = 0;
    let nonEmpty = 0;
    for (let chain = 0; chain < 60; chain++) {
      const node = pickOf(NODES, r);
      const role = { role: 'nc' as const, node };
      let prev = first(r, serial);
      for (let v = 0; v < 40; v++) {
        const next = edited(prev, r, serial);
        if (!next) continue;
        const ch = versionChange(prev, next, role);
        if (ch.kind === 'peers') {
          const want = floodChange(prev, next, node, [...ch.peers.removed, ...ch.peers.added]);
          expect(floodDiff(prev, next, node, ch.peers), `chain ${chain} version ${v} on ${node}`).toEqual(want);
          compared++;
          if (want && want.add.length + want.del.length) nonEmpty++;
        }
        // A version the node plans in full (its own instances changed) leaves no counts behind: the next diff builds them.
        prev = next;
      }
    }
    expect(compared).toBeGreaterThan(300);
    expect(nonEmpty).toBeGreaterThan(150);
  });

  it('declines when the change removes an instance that no count holds (the counts disagree with it)', () => {
    const r = uniform(7);
    const serial = { n: 0 };
    for (;;) {
      const prev = first(r, serial);
      const other = prev.instances.find((i) => i.node !== 'n0' && prev.instances.some((j) => j.node === 'n0' && j.group === i.group));
      if (!other) continue;
      // An instance of a carried group on another node, removed though prev does not have it.
      const ghost = { ...other, id: 'i-ghost', mac: 'd0:0d:0a:09:ff:ff' };
      expect(floodDiff(prev, prev, 'n0', { removed: [ghost], added: [] })).toBeUndefined();
      // And the same change the right way round is an entry to add.
      expect(floodDiff(prev, prev, 'n0', { removed: [], added: [ghost] })?.add).toContainEqual({
        dev: expect.any(String),
        lladdr: ghost.mac,
        dst: expect.any(String),
      });
      return;
    }
  });
});
