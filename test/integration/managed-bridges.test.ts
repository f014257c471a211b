// The MANAGED roles' bridges get the cheaper settings that instances cannot
// tell apart (README, "Bridge defaults"): STP off, forward delay 0 and
// multicast snooping off, read back with `ip -j -d link` as the oracle. A
// bridge an older eucanet made with snooping on is turned off by the next
// apply, and the apply after that changes nothing.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { allocate } from '../../src/managed/allocate.js';
import { planCc, planNc } from '../../src/managed/roles/index.js';
import type { DesiredState } from '../../src/tx/desired.js';
import { reconcile } from '../../src/tx/reconcile.js';
import { repoRoot } from '../helpers/cli.js';
import { ipLinks, isRoot, nsExec, withHandle } from '../helpers/netns.js';

if (!isRoot) console.warn('test/integration/managed-bridges.test.ts: skipped, needs root');

const seed = JSON.parse(readFileSync(`${repoRoot}/examples/seed.json`, 'utf8'));
const stateOf = (segmentation: 'vxlan' | 'none') => allocate({ ...seed, segmentation, mode: segmentation === 'none' ? 'MANAGED-NOVLAN' : 'MANAGED' });

/** The hosts' NICs (the seed's eth0 and eth1), IPv6 off. */
function nics(ns: string): void {
  nsExec(ns, 'sysctl', ['-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
  nsExec(ns, 'ip', ['link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth1']);
}

/** Each eucabr* bridge's settings as `ip -j -d link` shows them. */
function bridges(ns: string): Record<string, { stp: number; forwardDelay: number; snooping: number }> {
  const out: Record<string, { stp: number; forwardDelay: number; snooping: number }> = {};
  for (const l of ipLinks(ns)) {
    if (l.linkinfo?.info_kind !== 'bridge' || !String(l.ifname).startsWith('eucabr')) continue;
    const d = l.linkinfo.info_data;
    out[l.ifname] = { stp: d.stp_state, forwardDelay: d.forward_delay, snooping: d.mcast_snooping };
  }
  return out;
}

/** The plan as an older eucanet made it: bridges without a snooping setting (the kernel's default, on). */
function withoutSnoopingSetting(want: DesiredState): DesiredState {
  return { ...want, links: (want.links ?? []).map((l) => (l.kind === 'bridge' ? { ...l, multicastSnooping: undefined } : l)) };
}

describe.skipIf(!isRoot)("the MANAGED roles' bridges (root)", () => {
  const cases = [
    ['nc, vxlan', () => planNc(stateOf('vxlan'), 'nc1')],
    ['cc, vxlan', () => planCc(stateOf('vxlan'))],
    ['cc, MANAGED-NOVLAN', () => planCc(stateOf('none'))],
  ] as const;
  for (const [what, make] of cases) {
    it(`${what}: every bridge has STP off, forward delay 0, multicast snooping off`, async () => {
      await withHandle(async (h, ns) => {
        nics(ns);
        const r = await reconcile(h, make());
        expect(r.ops).toBeGreaterThan(0);
        const got = bridges(ns);
        expect(Object.keys(got).length).toBeGreaterThan(0);
        for (const [name, b] of Object.entries(got)) expect({ name, ...b }).toEqual({ name, stp: 0, forwardDelay: 0, snooping: 0 });
      });
    });
  }

  it('turns snooping off on the bridges an older eucanet made, then changes nothing', async () => {
    await withHandle(async (h, ns) => {
      nics(ns);
      const want = planNc(stateOf('vxlan'), 'nc1');
      await reconcile(h, withoutSnoopingSetting(want));
      const before = bridges(ns);
      expect(Object.values(before).map((b) => b.snooping)).toEqual(Object.keys(before).map(() => 1));
      const r = await reconcile(h, want);
      expect(r.plan.changes.toString()).toContain('mcast_snooping 0');
      expect(r.ops).toBe(Object.keys(before).length);
      expect(Object.values(bridges(ns)).map((b) => b.snooping)).toEqual(Object.keys(before).map(() => 0));
      expect((await reconcile(h, want)).ops).toBe(0);
    });
  });
});
