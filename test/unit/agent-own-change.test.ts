// relevance.ts versionChange for a node + managed/nc-instances.ts, the NC
// agent's own-instance path: a property test over random clouds and random
// edits. Whenever a version differs for a node by its own instances (and
// other nodes' instances of its groups), the desired state ncInstanceChange
// makes from the last plan must be exactly the full plan of the new state
// (planRole), the FDB as the set of entries the kernel ends with, and its FDB
// change exactly what the plans differ by; a `same` verdict must mean equal
// plans; a setting, a rule or no segmentation is never an own-instance change.
import { describe, expect, it } from 'vitest';
import { versionChange } from '../../src/agent/relevance.js';
import { allocate } from '../../src/managed/allocate.js';
import { ncInstanceChange } from '../../src/managed/nc-instances.js';
import { planRole } from '../../src/managed/roles/index.js';
import type { AllocatedState, State } from '../../src/managed/types.js';
import { uniform } from '../fuzz/prng.js';
import { EDITS, NODES, fdbKey, fdbKeys, minus, pickOf, propertyTimeout, randomCloud } from '../helpers/random-cloud.js';

/** Random edits checked; the test's timeout is sized from them. */
const CASES = 2000;

describe("a node's own-instance path (versionChange + ncInstanceChange)", () => {
  it('equals the full plan over 2000 random edits, or declines', { timeout: propertyTimeout(CASES) }, () => {
    const r = uniform(47);
    const seen = { own: 0, exact: 0, fdb: 0, ports: 0, declined: 0, same: 0, maybe: {} as Record<string, number> };
    for (let n = 0; n < CASES; n++) {
      let prev: AllocatedState;
      let next: AllocatedState;
      const name = pickOf(Object.keys(EDITS), r);
      try {
        prev = allocate(randomCloud(r));
        const edited = structuredClone(prev) as State;
        EDITS[name](edited, r);
        next = allocate(edited);
      } catch {
        continue; // a state the schema refuses is no version
      }
      for (const node of NODES) {
        const role = { role: 'nc' as const, node };
        const v = versionChange(prev, next, role);
        const what = `${name} on ${node}`;
        if (v.kind === 'maybe') {
          seen.maybe[name] = (seen.maybe[name] ?? 0) + 1;
          continue;
        }
        const before = planRole(prev, role);
        const after = planRole(next, role);
        if (v.kind === 'same') {
          expect(after, what).toEqual(before);
          seen.same++;
          continue;
        }
        if (v.kind !== 'own') continue; // peers: agent-peer-change.test.ts
        seen.own++;
        expect(['vlan', 'vxlan'], what).toContain(next.segmentation);
        const c = ncInstanceChange({ desired: before }, prev, next, node, [...v.instances.removed, ...v.instances.added]);
        if (!c) {
          seen.declined++;
          continue;
        }
        // Everything but the FDB exactly as the full plan (ports and set elements in its order); the FDB as a set.
        expect({ ...c.desired, fdb: [] }, `${what}: all but the FDB`).toEqual({ ...after, fdb: [] });
        expect((c.desired.fdb ?? []).map(fdbKey).sort(), `${what}: FDB`).toEqual((after.fdb ?? []).map(fdbKey).sort());
        const [was, now] = [fdbKeys(before.fdb), fdbKeys(after.fdb)];
        expect(c.fdb.add.map(fdbKey).sort(), `${what}: added`).toEqual(minus(now, was));
        expect(c.fdb.del.map(fdbKey).sort(), `${what}: deleted`).toEqual(minus(was, now));
        // No FDB change: the last plan's own array, in order.
        if (!c.fdb.add.length && !c.fdb.del.length) expect(c.desired.fdb, what).toBe(before.fdb);
        seen.exact++;
        if (c.fdb.add.length + c.fdb.del.length) seen.fdb++;
        if (JSON.stringify(after.ports) !== JSON.stringify(before.ports)) seen.ports++;
      }
    }
    // Not vacuous: many own-instance versions, most with a port to change, some with FDB entries too.
    expect(seen.exact).toBeGreaterThan(300);
    expect(seen.ports).toBeGreaterThan(250);
    expect(seen.fdb).toBeGreaterThan(20);
    // A node's first or last instance of a group (its bridge comes or goes) is declined.
    expect(seen.declined).toBeGreaterThan(50);
    // Settings and rules are never own-instance changes.
    for (const k of ['dns']) expect(seen.maybe[k] ?? 0, k).toBeGreaterThan(50);
  });

  it('run-instance and terminate here: one port and its set elements; a new group, or no segmentation, is declined', () => {
    const doc = { ...randomCloud(uniform(7)), segmentation: 'vxlan' as const, vxlanFlood: 'unicast' as const };
    doc.instances = [
      { id: 'i-1', group: 'u/a', node: 'n0' },
      { id: 'i-2', group: 'u/a', node: 'n1' },
    ];
    const N0 = { role: 'nc' as const, node: 'n0' };
    const prev = allocate(doc);
    const run = allocate({ ...prev, instances: [...prev.instances, { id: 'i-3', group: 'u/a', node: 'n0' }] });
    const v = versionChange(prev, run, N0);
    expect(v).toEqual({ kind: 'own', instances: { removed: [], added: [run.instances[2]] } });
    const c = ncInstanceChange({ desired: planRole(prev, N0) }, prev, run, 'n0', [run.instances[2]]);
    expect(c?.fdb).toEqual({ add: [], del: [] });
    expect(c?.desired).toEqual(planRole(run, N0));
    expect(c?.desired.ports?.map((p) => p.name)).toEqual(['eth0', run.instances[0].port, run.instances[2].port]);
    // Terminated: back to the first plan.
    expect(versionChange(run, prev, N0)).toEqual({ kind: 'own', instances: { removed: [run.instances[2]], added: [] } });
    expect(ncInstanceChange({ desired: planRole(run, N0) }, run, prev, 'n0', [run.instances[2]])?.desired).toEqual(planRole(prev, N0));
    // Its first instance of group b: a bridge and a segment to make, a full plan.
    const other = allocate({ ...prev, instances: [...prev.instances, { id: 'i-4', group: 'u/b', node: 'n0' }] });
    const w = versionChange(prev, other, N0);
    expect(w.kind).toBe('own');
    if (w.kind === 'own') expect(ncInstanceChange({ desired: planRole(prev, N0) }, prev, other, 'n0', w.instances.added)).toBeUndefined();
    // Without segmentation its table reads every instance's MAC: never own-only.
    const flat = allocate({ ...prev, mode: 'MANAGED-NOVLAN', segmentation: 'none' });
    const flatRun = allocate({ ...flat, instances: [...flat.instances, { id: 'i-3', group: 'u/a', node: 'n0' }] });
    expect(versionChange(flat, flatRun, N0).kind).toBe('maybe');
    const rule = structuredClone(run);
    rule.groups[0].rules.push({ protocol: 'udp', from: 53, cidr: '0.0.0.0/0' });
    expect(versionChange(prev, allocate(rule), N0).kind).toBe('own'); // (rules: the CC's; the plan of n0 does not read them)
    expect(versionChange(prev, allocate({ ...run, dns: '192.168.32.9' }), N0).kind).toBe('maybe');
  });
});
