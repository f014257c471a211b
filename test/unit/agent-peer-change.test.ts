// relevance.ts versionChange + roles/flood.ts floodChange, the NC agent's
// peer-only path: a property test over random VXLAN clouds and random edits.
// Whenever a version differs for a node only by other nodes' instances of the
// groups it carries, the FDB entries floodChange computes from those instances
// must be exactly what the full plans differ by (planRole of the old and the
// new state, as sets: what the kernel ends with), and everything else in the
// plans must be equal; a `same` verdict must mean equal plans.
import { describe, expect, it } from 'vitest';
import { versionChange } from '../../src/agent/relevance.js';
import { allocate } from '../../src/managed/allocate.js';
import { floodChange } from '../../src/managed/roles/flood.js';
import { planRole } from '../../src/managed/roles/index.js';
import type { AllocatedState, State } from '../../src/managed/types.js';
import { patchFdb } from '../../src/tx/fdb-delta.js';
import { uniform } from '../fuzz/prng.js';
import { cloudSettings, fdbKey, fdbKeys, minus, pickOf, propertyTimeout } from '../helpers/random-cloud.js';

const NODES = ['n0', 'n1', 'n2', 'n3', 'n4'];
const GROUPS = ['a', 'b', 'c'];
const MACS = Array.from({ length: 12 }, (_, k) => `d0:0d:0a:09:00:${k.toString(16).padStart(2, '0')}`);
let serial = 0;

function cloud(r: () => number): State {
  const groups = GROUPS.map((name) => ({ owner: 'u', name, rules: [{ protocol: 'tcp' as const, from: 22, cidr: '0.0.0.0/0' }] }));
  const instances = Array.from({ length: 4 + Math.floor(r() * 10) }, () => ({
    id: `i-${serial++}`,
    group: `u/${GROUPS[Math.floor(r() * 3)]}`,
    node: NODES[Math.floor(r() * NODES.length)],
  }));
  return {
    mode: 'MANAGED',
    segmentation: 'vxlan',
    ...(r() < 0.1 ? { vxlanFlood: 'multicast' as const } : {}),
    // Half with static MAC entries (every carrier's FDB changes), half learned (only the flood lists).
    ...(r() < 0.5 ? { vxlanMacs: 'static' as const } : {}),
    ...cloudSettings(NODES),
    groups,
    instances,
  };
}

type Edit = (s: State, r: () => number) => void;

/** Edits of the instances (some several at once), of a MAC (sometimes to one another instance has), of a rule. */
const EDITS: Record<string, Edit> = {
  run: (s, r) => s.instances?.push({ id: `i-${serial++}`, group: `u/${pickOf(GROUPS, r)}`, node: pickOf(NODES, r) }),
  runTwo: (s, r) => {
    EDITS.run(s, r);
    EDITS.run(s, r);
  },
  terminate: (s, r) => s.instances?.splice(Math.floor(r() * (s.instances?.length ?? 0)), 1),
  terminateTwo: (s, r) => {
    EDITS.terminate(s, r);
    EDITS.terminate(s, r);
  },
  move: (s, r) => {
    const i = pickOf(s.instances ?? [], r);
    if (i) Object.assign(i, { node: pickOf(NODES, r), port: undefined });
  },
  regroup: (s, r) => {
    const i = pickOf(s.instances ?? [], r);
    if (i) Object.assign(i, { group: `u/${pickOf(GROUPS, r)}`, privateIp: undefined, port: undefined });
  },
  mac: (s, r) => {
    const i = pickOf(s.instances ?? [], r);
    if (i) i.mac = pickOf(MACS, r);
  },
  swap: (s, r) => {
    const n = s.instances?.length ?? 0;
    const [x, y] = [Math.floor(r() * n), Math.floor(r() * n)];
    if (s.instances && n) [s.instances[x], s.instances[y]] = [s.instances[y], s.instances[x]];
  },
  authorize: (s, r) => pickOf(s.groups ?? [], r)?.rules?.push({ protocol: 'tcp', from: 1000 + serial++, cidr: '0.0.0.0/0' }),
};

/** Random edits checked; the test's timeout is sized from them. */
const CASES = 3000;

describe('the peer-only path (versionChange + floodChange)', () => {
  it('equals the difference of the full plans over 3000 random edits, or declines', { timeout: propertyTimeout(CASES) }, () => {
    const r = uniform(23);
    const seen = { peers: 0, exact: 0, nonEmpty: 0, declined: 0, same: 0, learnedPeers: 0, learnedSame: 0 };
    for (let n = 0; n < CASES; n++) {
      let prev: AllocatedState;
      let next: AllocatedState;
      const name = pickOf(Object.keys(EDITS), r);
      try {
        prev = allocate(cloud(r));
        // Some MACs given, so that two instances may share one.
        const draft = structuredClone(prev) as State;
        if (r() < 0.3) for (const i of draft.instances ?? []) if (r() < 0.3) i.mac = pickOf(MACS, r);
        prev = allocate(draft);
        const edited = structuredClone(prev) as State;
        EDITS[name](edited, r);
        next = allocate(edited);
      } catch {
        continue; // a state the schema refuses is no version
      }
      for (const node of NODES) {
        const role = { role: 'nc' as const, node };
        const v = versionChange(prev, next, role);
        if (v.kind === 'maybe') continue;
        const before = planRole(prev, role);
        const after = planRole(next, role);
        if (v.kind === 'same') {
          expect(after, `${name} on ${node}`).toEqual(before);
          seen.same++;
          if (next.vxlanMacs === undefined && prev.instances.some((i) => i.node === node)) seen.learnedSame++;
          continue;
        }
        // (Its own instances changed: agent-own-change.test.ts. An NC is never told `instances`: that is the CC's answer.)
        if (v.kind === 'own') continue;
        expect(v.kind, `${name} on ${node}`).toBe('peers');
        if (v.kind !== 'peers') continue;
        seen.peers++;
        const ch = floodChange(prev, next, node, [...v.peers.removed, ...v.peers.added]);
        if (!ch) {
          seen.declined++;
          continue;
        }
        expect({ ...after, fdb: [] }, `${name} on ${node}: only the FDB differs`).toEqual({ ...before, fdb: [] });
        const [was, now] = [fdbKeys(before.fdb), fdbKeys(after.fdb)];
        expect(ch.add.map(fdbKey).sort(), `${name} on ${node}: added`).toEqual(minus(now, was));
        expect(ch.del.map(fdbKey).sort(), `${name} on ${node}: deleted`).toEqual(minus(was, now));
        // The specs are the plan's own entries (the same fields).
        for (const f of ch.add) expect(after.fdb).toContainEqual(f);
        for (const f of ch.del) expect(before.fdb).toContainEqual(f);
        // The desired FDB the agent keeps: the new plan's entries.
        expect(
          patchFdb(before.fdb ?? [], ch)
            .map(fdbKey)
            .sort(),
          `${name} on ${node}: patched`,
        ).toEqual((after.fdb ?? []).map(fdbKey).sort());
        seen.exact++;
        if (ch.add.length + ch.del.length) seen.nonEmpty++;
        if (next.vxlanMacs === undefined) {
          seen.learnedPeers++;
          // Learned MACs: a peer-only version changes the flood lists, never a MAC entry.
          for (const f of [...ch.add, ...ch.del]) expect(f.lladdr, `${name} on ${node}`).toBe('00:00:00:00:00:00');
        }
      }
    }
    // Not vacuous: many peer-only versions, most with entries to change.
    expect(seen.exact).toBeGreaterThan(500);
    expect(seen.nonEmpty).toBeGreaterThan(300);
    expect(seen.same).toBeGreaterThan(300);
    expect(seen.learnedPeers).toBeGreaterThan(100);
    expect(seen.learnedSame).toBeGreaterThan(100);
  });

  it('static MACs: a run-instance in a carried group on another node: one static MAC added; its terminate deletes it; a first instance on a node adds its flood entry', () => {
    const doc = { ...cloud(uniform(5)), vxlanFlood: 'unicast' as const, vxlanMacs: 'static' as const };
    doc.instances = [
      { id: 'i-1', group: 'u/a', node: 'n0' },
      { id: 'i-2', group: 'u/a', node: 'n1' },
    ];
    const prev = allocate(doc);
    const next = allocate({ ...prev, instances: [...prev.instances, { id: 'i-3', group: 'u/a', node: 'n1' }] });
    const v = versionChange(prev, next, { role: 'nc', node: 'n0' });
    expect(v.kind).toBe('peers');
    const added = next.instances[2];
    const run = floodChange(prev, next, 'n0', [added]);
    expect(run).toEqual({ add: [{ dev: `eucavx${next.groups[0].vlan}`, lladdr: added.mac, dst: '10.0.0.12' }], del: [] });
    expect(floodChange(next, prev, 'n0', [added])).toEqual({ add: [], del: run?.add });
    const third = allocate({ ...prev, instances: [...prev.instances, { id: 'i-4', group: 'u/a', node: 'n2' }] });
    const add = floodChange(prev, third, 'n0', [third.instances[2]])?.add.map(fdbKey).sort();
    expect(add).toEqual(
      [`eucavx${next.groups[0].vlan}|${third.instances[2].mac}|10.0.0.13`, `eucavx${next.groups[0].vlan}|00:00:00:00:00:00|10.0.0.13`].sort(),
    );
  });

  it('learned MACs: a run-instance where its node already carries the group is the same plan to other nodes; a first instance there adds only its flood entry', () => {
    const doc = { ...cloud(uniform(5)), vxlanFlood: 'unicast' as const, vxlanMacs: undefined };
    doc.instances = [
      { id: 'i-1', group: 'u/a', node: 'n0' },
      { id: 'i-2', group: 'u/a', node: 'n1' },
    ];
    const prev = allocate(doc);
    const next = allocate({ ...prev, instances: [...prev.instances, { id: 'i-3', group: 'u/a', node: 'n1' }] });
    expect(versionChange(prev, next, { role: 'nc', node: 'n0' }).kind).toBe('same');
    expect(versionChange(next, prev, { role: 'nc', node: 'n0' }).kind).toBe('same');
    expect(planRole(next, { role: 'nc', node: 'n0' })).toEqual(planRole(prev, { role: 'nc', node: 'n0' }));
    const third = allocate({ ...prev, instances: [...prev.instances, { id: 'i-4', group: 'u/a', node: 'n2' }] });
    const v = versionChange(prev, third, { role: 'nc', node: 'n0' });
    expect(v.kind).toBe('peers');
    expect(floodChange(prev, third, 'n0', [third.instances[2]])).toEqual({
      add: [{ dev: `eucavx${third.groups[0].vlan}`, lladdr: '00:00:00:00:00:00', dst: '10.0.0.13' }],
      del: [],
    });
  });
});
