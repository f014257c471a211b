// A bring-up's work overlaps its waits (src/tx/commit.ts, execute.ts): the
// taps are sent to the addon first; the links the commit only names are then
// resolved to ifindexes on the spot, with no message (SIOCGIFINDEX on the
// socket), and the links it changes are looked up with their pre-images (or,
// when it adds links, every link dumped) on a worker thread while the taps
// are made; and the nftables batch is encoded while the kernel works, so that
// its phase only sends it. Checked against the kernel with `ip -j` and
// `nft -j`, and the order of events seen through the addon and the batch.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { NetlinkError, TransactionError } from '../../src/errors.js';
import { NETLINK_ROUTE } from '../../src/netlink/constants.js';
import { NetlinkConnection } from '../../src/netlink/socket.js';
import { Batch } from '../../src/nft/batch.js';
import { CommitContext } from '../../src/tx/context.js';
import { ipLinks, isRoot, nftRuleset, withHandle } from '../helpers/netns.js';

if (!isRoot) console.warn('test/integration/tx-overlap.test.ts: skipped, needs root');

/** The addon's own exports object (src/native.ts reaches it through a proxy), to watch tapCreate. */
function nativeAddon(): { tapCreate: (...a: unknown[]) => unknown } {
  const req = createRequire(import.meta.url);
  const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
  return req((req('node-gyp-build') as { path(d: string): string }).path(root));
}

afterEach(() => vi.restoreAllMocks());

/** A method as the class defines it, before a spy replaces it (to call through with the right `this`). */
function original<T, K extends keyof T>(proto: T, name: K): T[K] {
  return Object.getOwnPropertyDescriptor(proto, name)?.value as T[K];
}

const bringUp = (h: Parameters<Parameters<typeof withHandle>[0]>[0]) => {
  const tx = h.transaction();
  for (let i = 0; i < 8; i++) tx.addTap(`vnet${i}`, { master: 'eucabr10', up: true, group: 4200, alias: 'eucanet:port' });
  tx.addAddress({ dev: 'eth0', address: '172.16.0.1/32' });
  const t = { family: 'ip', name: 'eucanet' } as const;
  const m = { family: 'ip', table: 'eucanet', name: 'pub2priv', key: 'ipv4_addr', data: 'ipv4_addr' } as const;
  tx.nft
    .addTable(t)
    .addSet(m)
    .addElements(m, [['172.16.0.1', '10.1.0.1']]);
  return tx;
};

/** The same bring-up with a new link in it: the commit then dumps every link (a new link's ifindex is picked above them). */
const withLinkAdd = (tx: ReturnType<typeof bringUp>) => tx.addLink({ kind: 'bridge', name: 'eucabr99' });

async function base(h: Parameters<Parameters<typeof withHandle>[0]>[0]) {
  await h.links.add({ kind: 'bridge', name: 'eucabr10', up: true });
  await h.links.add({ kind: 'veth', name: 'eth0', peer: 'eth0p', up: true });
}

function checkUp(ns: string) {
  const taps = ipLinks(ns).filter((l) => /^vnet\d$/.test(l.ifname));
  expect(taps.map((l) => [l.master, l.group, l.ifalias, l.flags.includes('UP')])).toEqual(Array(8).fill(['eucabr10', '4200', 'eucanet:port', true]));
  const map = nftRuleset(ns).find((o) => o.map?.name === 'pub2priv');
  expect(map?.map.elem).toEqual([['172.16.0.1', '10.1.0.1']]);
}

describe.skipIf(!isRoot)('a bring-up overlaps its waits (root)', () => {
  it('sends the taps first, resolves the links it only names with no message, and encodes the nft batch before the taps are done', async () => {
    await withHandle(async (h, ns) => {
      await base(h);
      const events: string[] = [];
      const addon = nativeAddon();
      const tapCreate = addon.tapCreate;
      vi.spyOn(addon, 'tapCreate').mockImplementation((...a: unknown[]) => {
        events.push('taps sent');
        return (tapCreate(...a) as Promise<unknown>).finally(() => events.push('taps done'));
      });
      const resolve = original<CommitContext, 'resolve'>(CommitContext.prototype, 'resolve');
      const asked: unknown[] = [];
      vi.spyOn(CommitContext.prototype, 'resolve').mockImplementation(function (this: CommitContext, ...a) {
        events.push('names resolved');
        asked.push(...a[0]);
        return resolve.apply(this, a);
      });
      const learn = vi.spyOn(CommitContext.prototype, 'learn');
      const dump = vi.spyOn(CommitContext.prototype, 'snapshot');
      const encode = original<Batch, 'encodeForCommit'>(Batch.prototype, 'encodeForCommit');
      vi.spyOn(Batch.prototype, 'encodeForCommit').mockImplementation(function (this: Batch, ...a) {
        events.push('nft encoded');
        return encode.apply(this, a);
      });
      const stats = await bringUp(h).commit();
      expect(events.indexOf('taps sent')).toBe(0);
      expect(events.indexOf('names resolved')).toBeLessThan(events.indexOf('taps done'));
      expect(events.indexOf('nft encoded')).toBeLessThan(events.indexOf('taps done'));
      expect(events.filter((e) => e === 'nft encoded')).toHaveLength(1);
      // The bridge and the address's link, once each; not the new taps. No lookup message, and no dump of every link.
      expect(asked.sort()).toEqual(['eth0', 'eucabr10']);
      expect(learn).not.toHaveBeenCalled();
      expect(dump).not.toHaveBeenCalled();
      // 8 taps, 8 settling lookups, 16 link sets and the address.
      expect(stats.rtnlRequests).toBe(8 + 8 + 16 + 1);
      checkUp(ns);
    });
  });

  it("resolves names in the connection's namespace, not the host's", async () => {
    await withHandle(async (h, ns) => {
      const only = `euq${process.pid % 1_000_000}`;
      await h.links.add({ kind: 'bridge', name: only });
      const index = ipLinks(ns).find((l) => l.ifname === only)?.ifindex as number;
      expect(Array.from(h.rtnl.ifindexes([only, 'lo', 'nosuchlink0', 'x'.repeat(16), '']))).toEqual([index, 1, 0, 0, 0]);
      const host = new NetlinkConnection(NETLINK_ROUTE);
      try {
        expect(Array.from(host.ifindexes([only]))).toEqual([0]);
      } finally {
        host.close();
      }
      h.rtnl.close();
      expect(() => h.rtnl.ifindexes(['lo'])).toThrow(/EBADF/);
    });
  });

  it('a commit that changes an existing link looks it up with its pre-image, and its rollback puts the link back', async () => {
    await withHandle(async (h, ns) => {
      await base(h);
      // The commit's address is there already: its add is refused (EEXIST) after the bridge's alias was set.
      await h.addresses.add({ dev: 'eth0', address: '172.16.0.1/32' });
      const learn = original<CommitContext, 'learn'>(CommitContext.prototype, 'learn');
      const looked: unknown[] = [];
      vi.spyOn(CommitContext.prototype, 'learn').mockImplementation(function (this: CommitContext, ...a) {
        looked.push(...a[0]);
        return learn.apply(this, a);
      });
      const tx = bringUp(h).setLink('eucabr10', { alias: 'changed' });
      const err = (await tx.commit().catch((e: unknown) => e)) as TransactionError;
      expect(err).toBeInstanceOf(TransactionError);
      expect(err.code).toBe('EEXIST');
      expect(err.rolledBack, err.message).toBe(true);
      expect(looked).toEqual(['eucabr10']);
      const bridge = ipLinks(ns).find((l) => l.ifname === 'eucabr10');
      expect(bridge?.ifalias).toBeUndefined();
      expect(ipLinks(ns).filter((l) => /^vnet/.test(l.ifname))).toEqual([]);
    });
  });

  it('a bring-up whose bridge does not exist fails naming it, and the taps made meanwhile are rolled back', async () => {
    await withHandle(async (h, ns) => {
      await h.links.add({ kind: 'veth', name: 'eth0', peer: 'eth0p', up: true });
      const err = await bringUp(h)
        .commit()
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TransactionError);
      expect(String(err)).toMatch(/ENODEV/);
      expect(String(err)).toMatch(/eucabr10/);
      expect(ipLinks(ns).filter((l) => /^vnet/.test(l.ifname))).toEqual([]);
      expect(nftRuleset(ns).filter((o) => o.table)).toEqual([]);
    });
  });

  it('sends the taps to the addon before it encodes the nft batch (the batch is encoded while the taps are made)', async () => {
    await withHandle(async (h, ns) => {
      await base(h);
      const events: string[] = [];
      const addon = nativeAddon();
      const tapCreate = addon.tapCreate;
      vi.spyOn(addon, 'tapCreate').mockImplementation((...a: unknown[]) => {
        events.push('taps sent');
        return tapCreate(...a);
      });
      const encode = original<Batch, 'encodeForCommit'>(Batch.prototype, 'encodeForCommit');
      vi.spyOn(Batch.prototype, 'encodeForCommit').mockImplementation(function (this: Batch, ...a) {
        events.push('nft encoded');
        return encode.apply(this, a);
      });
      await bringUp(h).commit();
      // Before: the batch was encoded first, and the taps (the longest wait) started only after it.
      expect(events).toEqual(['taps sent', 'nft encoded']);
      checkUp(ns);
    });
  });

  it('a tap the kernel refuses, while the batch is encoded, fails the commit and nothing is left', async () => {
    await withHandle(async (h, ns) => {
      await base(h);
      await h.taps.create('vnet5');
      await expect(bringUp(h).commit()).rejects.toThrow(/vnet5|EEXIST/);
      expect(
        ipLinks(ns)
          .filter((l) => /^vnet/.test(l.ifname))
          .map((l) => [l.ifname, l.master ?? null]),
      ).toEqual([['vnet5', null]]);
      expect(nftRuleset(ns).filter((o) => o.table)).toEqual([]);
    });
  });

  it('takes the snapshot of a commit that adds links again after the taps when the taps interrupted its dump (EINTR)', async () => {
    await withHandle(async (h, ns) => {
      await base(h);
      const snapshot = original<CommitContext, 'snapshot'>(CommitContext.prototype, 'snapshot');
      let calls = 0;
      vi.spyOn(CommitContext.prototype, 'snapshot').mockImplementation(function (this: CommitContext) {
        if (calls++ === 0) return Promise.reject(new NetlinkError(4 /* EINTR */, { op: 'link dump (dump kept changing)' }));
        return snapshot.call(this);
      });
      const stats = await withLinkAdd(bringUp(h)).commit();
      expect(calls).toBe(2);
      // The dump counted once (the one taken again), the bridge, 8 taps, 8 settling lookups, 16 link sets and the address.
      expect(stats.rtnlRequests).toBe(1 + 1 + 8 + 8 + 16 + 1);
      checkUp(ns);
      expect(ipLinks(ns).some((l) => l.ifname === 'eucabr99')).toBe(true);
    });
  });

  it('a snapshot that fails otherwise fails the commit, and the taps made meanwhile are rolled back', async () => {
    await withHandle(async (h, ns) => {
      await base(h);
      vi.spyOn(CommitContext.prototype, 'snapshot').mockImplementation(() => Promise.reject(new NetlinkError(105 /* ENOBUFS */, { op: 'link dump' })));
      await expect(withLinkAdd(bringUp(h)).commit()).rejects.toThrow(/ENOBUFS/);
      expect(ipLinks(ns).filter((l) => /^vnet|^eucabr99$/.test(l.ifname))).toEqual([]);
      expect(nftRuleset(ns).filter((o) => o.table)).toEqual([]);
    });
  });
});
