// relevance.ts versionChange for the CC + managed/cc-instances.ts, the CC
// agent's instance-only path: a property test over random clouds and random
// edits. Whenever a version differs for the CC only by instances added or
// removed, the FDB change and DHCP networks ccInstanceChange makes from them
// must be exactly what the full plans make (planRole and dhcpNetworksFor of
// the new state), and everything else in the plans must be equal; a `same`
// verdict must mean equal plans; a version touching a public address, a rule
// or a setting must not be called instance-only (a rule alone is `rules`:
// agent-cc-rules.test.ts).
import { describe, expect, it } from 'vitest';
import { versionChange } from '../../src/agent/relevance.js';
import { allocate } from '../../src/managed/allocate.js';
import { dhcpNetworksFor } from '../../src/managed/apply-dhcp.js';
import { dhcpInputsOf, type AppliedSnapshot } from '../../src/managed/apply-snapshot.js';
import { ccInstanceChange } from '../../src/managed/cc-instances.js';
import { hostChangeOf } from '../../src/managed/dhcp-delta.js';
import { planRole } from '../../src/managed/roles/index.js';
import type { AllocatedState, State } from '../../src/managed/types.js';
import { uniform } from '../fuzz/prng.js';
import { EDITS, fdbKey, fdbKeys, minus, pickOf, propertyTimeout, randomCloud as cloud } from '../helpers/random-cloud.js';

const CC = { role: 'cc' as const };

/** What a full apply of the CC leaves for the next sync (its plan and DHCP networks). */
const snapshotOf = (s: AllocatedState): AppliedSnapshot => ({ desired: planRole(s, CC), dhcpNets: dhcpNetworksFor(s), dhcpInputs: dhcpInputsOf(s, undefined) });

/** Random edits checked; the test's timeout is sized from them. */
const CASES = 1200;

describe("the CC's instance-only path (versionChange + ccInstanceChange)", () => {
  it('equals the full plans over 1200 random edits, or declines', { timeout: propertyTimeout(CASES) }, () => {
    const r = uniform(31);
    const seen = { instances: 0, exact: 0, fdb: 0, dhcp: 0, same: 0, declined: 0, maybe: {} as Record<string, number> };
    for (let n = 0; n < CASES; n++) {
      let prev: AllocatedState;
      let next: AllocatedState;
      const name = pickOf(Object.keys(EDITS), r);
      try {
        prev = allocate(cloud(r));
        const edited = structuredClone(prev) as State;
        EDITS[name](edited, r);
        next = allocate(edited);
      } catch {
        continue; // a state the schema refuses is no version
      }
      const v = versionChange(prev, next, CC);
      const before = planRole(prev, CC);
      const after = planRole(next, CC);
      if (v.kind === 'maybe' || v.kind === 'rules') {
        // (A rules-only version is agent-cc-rules.test.ts's.)
        seen.maybe[name] = (seen.maybe[name] ?? 0) + 1;
        continue;
      }
      if (v.kind === 'same') {
        expect(after, name).toEqual(before);
        expect(dhcpNetworksFor(next), name).toEqual(dhcpNetworksFor(prev));
        seen.same++;
        continue;
      }
      expect(v.kind, name).toBe('instances');
      if (v.kind !== 'instances') continue;
      seen.instances++;
      for (const i of [...v.instances.removed, ...v.instances.added]) expect(i.publicIp, name).toBeUndefined();
      const snap = snapshotOf(prev);
      const c = ccInstanceChange(snap, prev, next, undefined, [...v.instances.removed, ...v.instances.added]);
      if (!c) {
        seen.declined++;
        continue;
      }
      // Only the FDB differs between the plans, and the patched desired FDB holds the new plan's entries.
      expect({ ...c.desired, fdb: [] }, `${name}: all but the FDB`).toEqual({ ...after, fdb: [] });
      expect((c.desired.fdb ?? []).map(fdbKey).sort(), `${name}: FDB`).toEqual((after.fdb ?? []).map(fdbKey).sort());
      const was = fdbKeys(before.fdb);
      const now = fdbKeys(after.fdb);
      expect(c.fdb.add.map(fdbKey).sort(), `${name}: added`).toEqual(minus(now, was));
      expect(c.fdb.del.map(fdbKey).sort(), `${name}: deleted`).toEqual(minus(was, now));
      // DHCP: the networks a full apply serves, the hosts it would hand dnsmasq, the inputs it would record.
      expect(c.dhcp.networks, `${name}: DHCP networks`).toEqual(dhcpNetworksFor(next));
      expect(c.dhcp.hosts, `${name}: DHCP hosts`).toEqual(hostChangeOf(snap.dhcpNets ?? [], dhcpNetworksFor(next)));
      expect(c.dhcp.inputs, name).toEqual(dhcpInputsOf(next, undefined));
      seen.exact++;
      if (c.fdb.add.length + c.fdb.del.length) seen.fdb++;
      if (c.dhcp.hosts.add.length + c.dhcp.hosts.del.length) seen.dhcp++;
    }
    // Not vacuous: many instance-only versions, most with entries and hosts to change.
    expect(seen.exact).toBeGreaterThan(400);
    expect(seen.fdb).toBeGreaterThan(200);
    expect(seen.dhcp).toBeGreaterThan(300);
    // Public addresses, rules and settings are never instance-only (a rule alone is rules-only).
    for (const k of ['runPublic', 'associate', 'authorize', 'dns']) expect(seen.maybe[k] ?? 0, k).toBeGreaterThan(50);
  });

  it('run-instance and terminate are instance-only; a public address, a rule or a setting is not', () => {
    const doc = { ...cloud(uniform(7)), segmentation: 'vxlan' as const, vxlanFlood: 'unicast' as const, vxlanMacs: 'static' as const };
    doc.instances = [
      { id: 'i-1', group: 'u/a', node: 'n0' },
      { id: 'i-2', group: 'u/a', node: 'n1' },
    ];
    const prev = allocate(doc);
    const run = allocate({ ...prev, instances: [...prev.instances, { id: 'i-3', group: 'u/a', node: 'n1' }] });
    expect(versionChange(prev, run, CC)).toEqual({ kind: 'instances', instances: { removed: [], added: [run.instances[2]] } });
    expect(versionChange(run, prev, CC)).toEqual({ kind: 'instances', instances: { removed: [run.instances[2]], added: [] } });
    // One static MAC toward n1, nothing else; the desired FDB in the full plan's order.
    const c = ccInstanceChange(snapshotOf(prev), prev, run, undefined, [run.instances[2]]);
    expect(c?.fdb).toEqual({ add: [{ dev: `eucavx${run.groups[0].vlan}`, lladdr: run.instances[2].mac, dst: '10.0.0.12' }], del: [] });
    expect(c?.desired.fdb).toEqual(planRole(run, CC).fdb);
    expect(c?.dhcp.hosts).toEqual({ add: [{ mac: run.instances[2].mac, ip: run.instances[2].privateIp, hostname: 'i-3' }], del: [] });
    // Learned MACs (the default): n1 already carries u/a, so the CC's FDB does not change; its DHCP hosts do.
    const learnPrev = allocate({ ...prev, vxlanMacs: undefined });
    const learnRun = allocate({ ...learnPrev, instances: [...learnPrev.instances, { id: 'i-3', group: 'u/a', node: 'n1' }] });
    const l = ccInstanceChange(snapshotOf(learnPrev), learnPrev, learnRun, undefined, [learnRun.instances[2]]);
    expect(l?.fdb).toEqual({ add: [], del: [] });
    expect(l?.desired.fdb).toEqual(planRole(learnRun, CC).fdb);
    expect(l?.dhcp.hosts.add).toHaveLength(1);
    const withIp = allocate({ ...prev, instances: [...prev.instances, { id: 'i-3', group: 'u/a', node: 'n1', publicIp: '192.168.32.201' }] });
    expect(versionChange(prev, withIp, CC).kind).toBe('maybe');
    const assoc = allocate({ ...prev, instances: [prev.instances[0], { ...prev.instances[1], publicIp: '192.168.32.201' }] });
    expect(versionChange(prev, assoc, CC).kind).toBe('maybe');
    const rule = structuredClone(prev);
    rule.groups[0].rules.push({ protocol: 'udp', from: 53, cidr: '0.0.0.0/0' });
    expect(versionChange(prev, allocate(rule), CC).kind).toBe('rules');
    expect(versionChange(prev, allocate({ ...prev, dns: '192.168.32.9' }), CC).kind).toBe('maybe');
    expect(versionChange(prev, prev, CC).kind).toBe('same');
  });
});
