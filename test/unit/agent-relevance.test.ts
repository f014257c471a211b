// agent/relevance.ts planMayChange: a property test over random edits of
// random small clouds (every segmentation, both VXLAN floodings, `auto`).
// Whenever the filter says a node's plan cannot change, planRole of the old
// and the new state must be equal; and it must say so often (rule edits,
// other nodes' instances of other groups), or it would be useless.
import { describe, expect, it } from 'vitest';
import { planMayChange, sameJson } from '../../src/agent/relevance.js';
import { allocate } from '../../src/managed/allocate.js';
import { planRole, type Role } from '../../src/managed/roles/index.js';
import type { AllocatedState, Segmentation, State } from '../../src/managed/types.js';
import { uniform } from '../fuzz/prng.js';
import { cloudSettings, propertyTimeout } from '../helpers/random-cloud.js';

const rng = uniform;

const NODES = ['n0', 'n1', 'n2', 'n3'];
const SEGS = ['vlan', 'vxlan', 'none', 'auto'] as const;

function baseState(r: () => number): State {
  const seg = SEGS[Math.floor(r() * SEGS.length)] as State['segmentation'];
  const groups = ['a', 'b', 'c'].map((name) => ({ owner: 'u', name, rules: [{ protocol: 'tcp' as const, from: 22, cidr: '0.0.0.0/0' }] }));
  const instances = Array.from({ length: 8 }, (_, k) => ({
    id: `i-${k}`,
    group: `u/${groups[Math.floor(r() * 3)]?.name}`,
    node: NODES[Math.floor(r() * NODES.length)],
    ...(r() < 0.3 ? { publicIp: true } : {}),
  }));
  return {
    mode: seg === 'none' ? 'MANAGED-NOVLAN' : 'MANAGED',
    segmentation: seg,
    ...(r() < 0.3 ? { vxlanFlood: 'multicast' as const } : {}),
    ...cloudSettings(NODES),
    groups,
    instances,
  };
}

type Edit = (s: State, r: () => number) => void;
const pickOf = <T>(xs: readonly T[], r: () => number): T | undefined => xs[Math.floor(r() * xs.length)];
let serial = 100;

/** Edits an operator (or an operation) makes; each on a copy of an allocated state. */
const EDITS: Record<string, Edit> = {
  authorize: (s, r) => pickOf(s.groups ?? [], r)?.rules?.push({ protocol: 'tcp', from: 1000 + serial++, cidr: '0.0.0.0/0' }),
  revoke: (s, r) => pickOf(s.groups ?? [], r)?.rules?.pop(),
  runInstance: (s, r) => s.instances?.push({ id: `i-${serial++}`, group: `u/${pickOf(['a', 'b', 'c'], r)}`, node: pickOf(NODES, r) as string }),
  terminate: (s, r) => s.instances?.splice(Math.floor(r() * (s.instances?.length ?? 0)), 1),
  moveNode: (s, r) => {
    const i = pickOf(s.instances ?? [], r);
    if (i) Object.assign(i, { node: pickOf(NODES, r), port: undefined });
  },
  associate: (s, r) => {
    const i = pickOf(s.instances ?? [], r);
    if (i) i.publicIp = i.publicIp ? false : true;
  },
  newMac: (s, r) => {
    const i = pickOf(s.instances ?? [], r);
    if (i) i.mac = `d0:0d:0a:09:00:${(serial++ % 200).toString(16).padStart(2, '0')}`;
  },
  reorder: (s) => {
    const first = s.instances?.shift();
    if (first) s.instances?.push(first);
  },
  addGroup: (s) => s.groups?.push({ owner: 'u', name: `g${serial++}`, rules: [] }),
  dns: (s) => (s.dns = `192.168.32.${serial++ % 250}`),
  pool: (s) => s.publicIps?.push(`192.168.33.${serial++ % 250}`),
  underlay: (s, r) => {
    const n = pickOf(NODES, r) as string;
    const host = s.nodes?.[n];
    if (host) host.underlay = `10.0.0.${100 + (serial++ % 100)}/24`;
  },
  flood: (s) => (s.vxlanFlood = s.vxlanFlood === 'multicast' ? 'unicast' : 'multicast'),
};

/** The plans to compare: `auto` resolves per host to vlan or vxlan, so both. */
function plans(s: AllocatedState, role: Role): unknown[] {
  const segs: Segmentation[] = s.segmentation === 'auto' ? ['vlan', 'vxlan'] : [s.segmentation];
  return segs.map((segmentation) => planRole({ ...s, segmentation }, role));
}

/** Random edits checked; the test's timeout is sized from them. */
const CASES = 2000;

describe('planMayChange', () => {
  it('never says "no change" when the plan changes (2000 random edits, every segmentation)', { timeout: propertyTimeout(CASES) }, () => {
    const r = rng(17);
    const roles: Role[] = [{ role: 'cc' }, ...NODES.map((node) => ({ role: 'nc' as const, node }))];
    const said = { no: 0, maybe: 0, maybeButSame: 0 };
    const noByEdit: Record<string, number> = {};
    let cases = 0;
    while (cases < CASES) {
      const prev = allocate(baseState(r));
      const name = pickOf(Object.keys(EDITS), r) as string;
      const draft = structuredClone(prev) as State;
      EDITS[name]?.(draft, r);
      let next: AllocatedState;
      try {
        next = allocate(draft);
      } catch {
        continue; // an edit the schema refuses is no version
      }
      cases++;
      for (const role of roles) {
        const before = plans(prev, role);
        const after = plans(next, role);
        if (!planMayChange(prev, next, role)) {
          expect(after, `${name} for ${JSON.stringify(role)}`).toEqual(before);
          said.no++;
          noByEdit[name] = (noByEdit[name] ?? 0) + 1;
        } else {
          said.maybe++;
          if (sameJson(JSON.parse(JSON.stringify(before)), JSON.parse(JSON.stringify(after)))) said.maybeButSame++;
        }
      }
    }
    // Useful, not only safe: most NC verdicts on rule edits and pool changes are "no change".
    expect(noByEdit.authorize ?? 0).toBeGreaterThan(300);
    expect(noByEdit.pool ?? 0).toBeGreaterThan(300);
    expect(noByEdit.runInstance ?? 0).toBeGreaterThan(50);
    expect(said.no).toBeGreaterThan(said.maybe / 2);
  });

  it('the cluster controller is always a maybe, and the same state never is', () => {
    const s = allocate(baseState(rng(1)));
    expect(planMayChange(s, structuredClone(s), { role: 'cc' })).toBe(true);
    expect(planMayChange(s, s, { role: 'cc' })).toBe(false);
    expect(planMayChange(s, structuredClone(s), { role: 'nc', node: 'n0' })).toBe(false);
  });

  it('a run-instance concerns its node and, with VXLAN unicast, the nodes carrying its group, not the others', () => {
    const doc: State = { ...baseState(rng(3)), mode: 'MANAGED', segmentation: 'vxlan', vxlanFlood: 'unicast' };
    doc.instances = [
      { id: 'i-1', group: 'u/a', node: 'n0' },
      { id: 'i-2', group: 'u/a', node: 'n1' },
      { id: 'i-3', group: 'u/b', node: 'n2' },
    ];
    const prev = allocate(doc);
    const next = allocate({ ...prev, instances: [...prev.instances, { id: 'i-4', group: 'u/a', node: 'n3' }] });
    const verdict = (node: string) => planMayChange(prev, next, { role: 'nc', node });
    expect(NODES.map(verdict)).toEqual([true, true, false, true]);
  });
});
