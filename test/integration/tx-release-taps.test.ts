// Released taps (reconcile's `releaseTaps`, the NC agent's terminate): an
// owned tap no longer wanted is taken out of its bridge and brought down in
// the commit, not deleted, and named in the plan's `released`; deleteReleased
// deletes it afterwards, skips one already gone, and leaves one that someone
// put back up or into a bridge since. Without the option the tap is deleted
// in the commit, as before.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { open } from '../../src/handle.js';
import type { DesiredState } from '../../src/tx/desired.js';
import { deleteReleased, plan, reconcile } from '../../src/tx/reconcile.js';
import { isRoot, withNetns } from '../helpers/netns.js';

const bridge = { kind: 'bridge' as const, name: 'eucabr10', stp: false, forwardDelay: 0, up: true };
const port = (name: string) => ({ name, tap: true, master: 'eucabr10', up: true });
const both: DesiredState = { links: [bridge], ports: [port('vnet1'), port('vnet2')] };
const one: DesiredState = { links: [bridge], ports: [port('vnet1')] };
const none: DesiredState = { links: [bridge], ports: [] };

/** The link `name` as `ip -j link` shows it (undefined: none). */
function linkOf(ns: string, name: string): { master?: string; flags: string[] } | undefined {
  const all = JSON.parse(execFileSync('ip', ['-n', ns, '-j', 'link', 'show']).toString()) as Array<{ ifname: string; master?: string; flags: string[] }>;
  return all.find((l) => l.ifname === name);
}

const opsOf = (p: Awaited<ReturnType<typeof plan>>) => p.changes.toJSON().ops;

describe.skipIf(!isRoot)('released taps (root)', () => {
  it('are out of their bridge and down after the commit, and deleted by deleteReleased', async () => {
    await withNetns(async (ns) => {
      const h = open({ netns: ns });
      try {
        await reconcile(h, both);
        // Without the option: deleted in the commit.
        expect(opsOf(await plan(h, one))).toEqual([{ op: 'link.delete', ref: 'vnet2' }]);
        const p = await plan(h, one, { releaseTaps: true });
        expect(opsOf(p)).toEqual([{ op: 'link.set', ref: 'vnet2', changes: { master: null, up: false } }]);
        expect(p.released).toEqual(['vnet2']);

        const r = await reconcile(h, one, { releaseTaps: true });
        expect(r.plan.released).toEqual(['vnet2']);
        const released = linkOf(ns, 'vnet2');
        expect(released).toBeDefined();
        expect(released?.master).toBeUndefined();
        expect(released?.flags).not.toContain('UP');
        expect(linkOf(ns, 'vnet1')).toMatchObject({ master: 'eucabr10' });

        // vnet9 was never there: skipped.
        expect(await deleteReleased(h, ['vnet2', 'vnet9'])).toBe(1);
        expect(linkOf(ns, 'vnet2')).toBeUndefined();
        expect((await plan(h, one)).size).toBe(0);
      } finally {
        h.close();
      }
    }, 'eurel');
  }, 30_000);

  it('a released tap someone brought up again, or put back in a bridge, is left as it is', async () => {
    await withNetns(async (ns) => {
      const h = open({ netns: ns });
      try {
        await reconcile(h, both);
        expect((await reconcile(h, none, { releaseTaps: true })).plan.released?.sort()).toEqual(['vnet1', 'vnet2']);
        execFileSync('ip', ['-n', ns, 'link', 'set', 'vnet1', 'up']);
        execFileSync('ip', ['-n', ns, 'link', 'set', 'vnet2', 'master', 'eucabr10']);
        expect(await deleteReleased(h, ['vnet1', 'vnet2'])).toBe(0);
        expect(linkOf(ns, 'vnet1')?.flags).toContain('UP');
        expect(linkOf(ns, 'vnet2')).toMatchObject({ master: 'eucabr10' });
        // A later reconcile (no option) deletes both: they are owned and not wanted.
        await reconcile(h, none);
        expect(linkOf(ns, 'vnet1')).toBeUndefined();
        expect(linkOf(ns, 'vnet2')).toBeUndefined();
      } finally {
        h.close();
      }
    }, 'eurel');
  }, 30_000);
});
