// Device groups, moving links between namespaces, and named namespaces made
// without `ip` (src/sys/netns.ts). Every test runs in its own namespaces,
// removed even on failure. Needs root; skipped otherwise.
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { open } from '../../src/handle.js';
import { SystemCallError } from '../../src/native.js';
import { isNotFound, NetlinkError, ValidationError } from '../../src/errors.js';
import type { Resolver } from '../../src/rtnl/kinds/index.js';
import { LinkAddRequest } from '../../src/rtnl/link.js';
import { createNetns, deleteNetns, listNetns, netnsExists } from '../../src/sys/netns.js';
import { freshName, isRoot, withNetns, withHandle } from '../helpers/netns.js';

if (!isRoot) console.warn('test/integration/rtnl-netns-group.test.ts: skipped, needs root (network namespaces)');

function ipLinks(ns: string): Map<string, any> {
  const out = JSON.parse(execFileSync('ip', ['-n', ns, '-j', 'link', 'show'], { encoding: 'utf8' }));
  return new Map(out.map((l: any) => [l.ifname, l]));
}

const noRefs: Resolver = {
  index: (ref) => {
    if (typeof ref === 'number') return ref;
    throw new Error(`unexpected ref ${ref}`);
  },
  netnsFd: () => {
    throw new Error('unexpected netns');
  },
};

describe.skipIf(!isRoot)('device groups (root)', () => {
  it('deletes 100 taps and 100 veth pairs in group 9 with one request, and nothing else', async () => {
    await withHandle(async (h, ns) => {
      const taps = Array.from({ length: 100 }, (_, i) => `tap${i}`);
      await h.taps.create(taps, { group: 9 });
      // The veths pipelined: one send for all 100 requests.
      const replies = await h.rtnl.run(
        Array.from({ length: 100 }, (_, i) => new LinkAddRequest({ name: `va${i}`, kind: 'veth', peer: `vb${i}`, group: 9 }, noRefs)),
      );
      expect(replies.filter((r) => r.error)).toEqual([]);
      // Bystanders: another group, the default group, and a veth peer left in group 0.
      await h.links.add({ name: 'keep8', kind: 'bridge', group: 8 });
      await h.links.add({ name: 'keep0', kind: 'bridge' });

      let all = await h.links.list();
      expect(all.filter((l) => l.group === 9)).toHaveLength(200);
      expect([...ipLinks(ns).values()].filter((l) => l.group === '9')).toHaveLength(200);
      expect(all).toHaveLength(1 + 100 + 200 + 2);

      const t0 = performance.now();
      await h.links.deleteGroup(9);
      const ms = performance.now() - t0;

      all = await h.links.list();
      expect(all.map((l) => l.name).sort()).toEqual(['keep0', 'keep8', 'lo']);
      expect([...ipLinks(ns).keys()].sort()).toEqual(['keep0', 'keep8', 'lo']);
      // One RCU grace period for the lot, not 200 (~16 ms each): generous bound.
      expect(ms).toBeLessThan(3000);
    });
  });

  it('deleting a group nobody is in: ENODEV from the kernel (as for ip), and nothing touched', async () => {
    await withHandle(async (h) => {
      await h.links.add({ name: 'br0', kind: 'bridge', group: 3 });
      const err = await h.links.deleteGroup(4).catch((e) => e);
      expect(err).toBeInstanceOf(NetlinkError);
      expect(err).toMatchObject({ code: 'ENODEV', op: 'link delete group 4' });
      expect(isNotFound(err)).toBe(true);
      expect((await h.links.list()).map((l) => l.name)).toEqual(['lo', 'br0']);
    });
  });
});

describe.skipIf(!isRoot)('moving links between namespaces (root)', () => {
  it('moves a link by name to a namespace given by name, keeps its MAC, and back again by fd', async () => {
    await withHandle(async (h, ns) => {
      await withNetns(async (other) => {
        await h.links.add({ name: 'veth0', kind: 'veth', peer: 'veth1', address: '02:00:00:00:01:00', mtu: 1400 });
        await h.links.set('veth1', { mtu: 1300 });
        await h.links.set('veth1', { netns: other });
        expect(await h.links.get('veth1')).toBeUndefined();
        expect(ipLinks(ns).has('veth1')).toBe(false);
        const h2 = open({ netns: other });
        try {
          const moved = await h2.links.get('veth1');
          expect(moved).toMatchObject({ kind: 'veth', mtu: 1300 });
          expect(ipLinks(other).get('veth1')).toMatchObject({ mtu: 1300 });
          // The end left behind now points to a peer in another namespace.
          expect((await h.links.get('veth0'))!.linkNetnsId).toBeGreaterThanOrEqual(0);

          await h.links.set('veth0', { netns: other, name: 'veth9' });
          expect(await h.links.get('veth0')).toBeUndefined();
          expect(await h2.links.get('veth9')).toMatchObject({ address: '02:00:00:00:01:00', mtu: 1400 });
          expect(ipLinks(other).get('veth9').address).toBe('02:00:00:00:01:00');

          // Back, with the namespace given as an open fd.
          const fd = openSync(`/run/netns/${ns}`, 'r');
          try {
            await h2.links.set('veth9', { netns: fd });
          } finally {
            closeSync(fd);
          }
          expect(await h2.links.get('veth9')).toBeUndefined();
          expect((await h.links.get('veth9'))!.address).toBe('02:00:00:00:01:00');
          expect(ipLinks(ns).get('veth9').address).toBe('02:00:00:00:01:00');
        } finally {
          h2.close();
        }
      });
    });
  });

  it('moving to a namespace that does not exist fails before the kernel is asked', async () => {
    await withHandle(async (h) => {
      await h.links.add({ name: 'br0', kind: 'bridge' });
      const err = await h.links.set('br0', { netns: 'eut-does-not-exist' }).catch((e) => e);
      expect(err).toBeInstanceOf(Error);
      expect(err.code).toBe('ENOENT');
      expect(await h.links.get('br0')).toBeDefined();
    });
  });
});

describe.skipIf(!isRoot)('named namespaces without ip (src/sys/netns.ts)', () => {
  it('creates, lists, uses and deletes a namespace; ip sees the same', async () => {
    const name = freshName('eut-sys');
    createNetns(name);
    try {
      expect(netnsExists(name)).toBe(true);
      expect(listNetns()).toContain(name);
      expect(execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })).toContain(name);
      // A real, empty network namespace: only lo, and usable by the library and by ip.
      const h = open({ netns: name });
      try {
        expect((await h.links.list()).map((l) => l.name)).toEqual(['lo']);
        await h.links.add({ name: 'br0', kind: 'bridge' });
      } finally {
        h.close();
      }
      expect([...ipLinks(name).keys()]).toEqual(['lo', 'br0']);
      // Not the host's namespace.
      expect(execFileSync('ip', ['-j', 'link', 'show'], { encoding: 'utf8' })).not.toContain(`"ifname":"br0"`);

      const again = (() => {
        try {
          createNetns(name);
        } catch (e) {
          return e as SystemCallError;
        }
      })();
      expect(again).toBeInstanceOf(SystemCallError);
      expect(again!.code).toBe('EEXIST');
    } finally {
      if (netnsExists(name)) deleteNetns(name);
    }
    expect(netnsExists(name)).toBe(false);
    expect(existsSync(`/run/netns/${name}`)).toBe(false);
    expect(execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })).not.toContain(name);
  });

  it('refuses bad names, and deleting a missing namespace is ENOENT', () => {
    for (const bad of ['', '.', '..', 'a/b', 'x y']) {
      expect(() => createNetns(bad), bad).toThrow(ValidationError);
    }
    let err: unknown;
    try {
      deleteNetns('eut-not-there-at-all');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SystemCallError);
    expect((err as SystemCallError).code).toBe('ENOENT');
  });
});
