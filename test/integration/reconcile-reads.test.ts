// The re-apply's reads (links, addresses of both families, routes, the owned
// nftables tables): drift in any of them must be found by the next plan, and
// a handle that planned must leave no socket open. (A guard for any change
// to how those reads are split over sockets and exchanges.)
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { open } from '../../src/handle.js';
import { plan, reconcile } from '../../src/tx/reconcile.js';
import type { DesiredState } from '../../src/tx/desired.js';
import { isRoot, nsExec, withNetns } from '../helpers/netns.js';

const want: DesiredState = {
  links: [{ kind: 'bridge', name: 'eucabr10', stp: false, forwardDelay: 0, up: true }],
  addresses: [
    { dev: 'eucabr10', address: '10.9.0.1/24' },
    { dev: 'eucabr10', address: 'fd00:9::1/64' },
  ],
  routes: [{ dst: '10.99.0.0/16', gateway: '10.9.0.254', dev: 'eucabr10' }],
  nft: {
    tables: [{ family: 'ip', name: 'eucanet' }],
    chains: [],
    sets: [{ family: 'ip', table: 'eucanet', name: 'pub2priv', key: 'ipv4_addr', data: 'ipv4_addr', elements: [['172.16.0.1', '10.1.0.1']] }],
    rules: [],
  },
};

const ip = (ns: string, ...args: string[]) => execFileSync('ip', ['-n', ns, ...args]);
const opsOf = (p: Awaited<ReturnType<typeof plan>>) => p.changes.toJSON().ops.map((o) => o.op);

describe.skipIf(!isRoot)('the re-apply reads (root)', () => {
  it('matches after an apply, then finds drift in IPv4 and IPv6 addresses, routes and set elements', async () => {
    await withNetns(async (ns) => {
      const h = open({ netns: ns });
      try {
        await reconcile(h, want);
        expect((await plan(h, want)).size).toBe(0);

        // Drift: one desired address of each family gone, an owned address of
        // each family not wanted, the route gone, an element changed.
        ip(ns, 'addr', 'del', '10.9.0.1/24', 'dev', 'eucabr10');
        ip(ns, 'addr', 'del', 'fd00:9::1/64', 'dev', 'eucabr10');
        // (This iproute2 cannot set an address's protocol: the library's one-op verb does.)
        await h.addresses.add({ dev: 'eucabr10', address: '10.9.0.7/32', proto: 240 });
        await h.addresses.add({ dev: 'eucabr10', address: 'fd00:9::7/128', proto: 240 });
        nsExec(ns, 'nft', ['-f', '-'], 'flush map ip eucanet pub2priv\nadd element ip eucanet pub2priv { 172.16.0.1 : 10.1.0.2 }\n');
        const p = await plan(h, want);
        const ops = opsOf(p).sort();
        expect(ops).toEqual(['address.add', 'address.add', 'address.delete', 'address.delete', 'route.add'].sort());
        const deleted = p.changes
          .toJSON()
          .ops.flatMap((o) => (o.op === 'address.delete' ? [o.spec.address] : []))
          .sort();
        expect(deleted).toEqual(['10.9.0.7/32', 'fd00:9::7/128']);
        expect(p.changes.toJSON().nft).toContain('172.16.0.1');

        await reconcile(h, want);
        expect((await plan(h, want)).size).toBe(0);
      } finally {
        h.close();
      }
    });
  });

  it('a handle that planned closes its sockets', async () => {
    await withNetns(async (ns) => {
      const fds = () => readdirSync('/proc/self/fd').length;
      const h0 = open({ netns: ns });
      await reconcile(h0, want);
      h0.close();
      const before = fds();
      for (let i = 0; i < 20; i++) {
        const h = open({ netns: ns });
        await plan(h, want);
        h.close();
      }
      // vitest may open or close an fd or two meanwhile; 20 leaked sockets would show.
      expect(fds() - before).toBeLessThanOrEqual(3);
    });
  });
  it("a desired nftables table that is not eucanet's fails the plan, naming it, with nothing changed", async () => {
    await withNetns(async (ns) => {
      const h = open({ netns: ns });
      try {
        await reconcile(h, want);
        const before = nsExec(ns, 'nft', ['list', 'ruleset']);
        const bad: DesiredState = {
          ...want,
          links: [...(want.links ?? []), { kind: 'bridge', name: 'eucabr11', up: true }],
          nft: { ...want.nft!, tables: [...want.nft!.tables, { family: 'ip', name: 'filter' }] },
        };
        await expect(reconcile(h, bad)).rejects.toThrow(/nft\.tables "filter"/);
        expect(nsExec(ns, 'nft', ['list', 'ruleset'])).toBe(before);
        expect(() => nsExec(ns, 'ip', ['link', 'show', 'eucabr11'])).toThrow();
        expect((await plan(h, want)).size).toBe(0);
      } finally {
        h.close();
      }
    });
  });
});
