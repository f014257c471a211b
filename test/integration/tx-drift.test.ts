// Drift the kernel refuses to repair in one request: someone turned STP on in
// eucanet's bridge (forward delay back to 15 s). Turning it off and the delay
// to 0 in one RTM_NEWLINK fails with ERANGE (the kernel sets the delay first,
// while STP is still on), so reconcile sends STP off on its own, first.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { open } from '../../src/handle.js';
import { plan, reconcile } from '../../src/tx/reconcile.js';
import type { DesiredState } from '../../src/tx/desired.js';
import { ipLinks, isRoot, withNetns } from '../helpers/netns.js';

const want: DesiredState = { links: [{ kind: 'bridge', name: 'eucabr10', stp: false, forwardDelay: 0, up: true }] };

describe.skipIf(!isRoot)('reconcile repairs drift the kernel orders (root)', () => {
  it('a bridge whose STP someone turned on (delay 15 s) is put back: STP off, then delay 0', async () => {
    await withNetns(async (ns) => {
      const h = open({ netns: ns });
      try {
        await reconcile(h, want);
        execFileSync('ip', ['-n', ns, 'link', 'set', 'eucabr10', 'type', 'bridge', 'stp_state', '1', 'forward_delay', '1500']);
        const drifted = ipLinks(ns).find((l) => l.ifname === 'eucabr10')!.linkinfo.info_data;
        expect([drifted.stp_state, drifted.forward_delay]).toEqual([1, 1500]);

        const r = await reconcile(h, want);
        expect(r.ops).toBeGreaterThan(0);
        const back = ipLinks(ns).find((l) => l.ifname === 'eucabr10')!.linkinfo.info_data;
        expect([back.stp_state, back.forward_delay]).toEqual([0, 0]);
        expect((await plan(h, want)).size).toBe(0);
      } finally {
        h.close();
      }
    });
  });
});
