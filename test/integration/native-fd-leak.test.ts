// No file-descriptor leaks in the addon: opening and closing 10,000
// namespace-bound netlink sockets (and handles), failed opens, exchanges,
// close-while-busy, sysctl opens and tap jobs all leave the process's count of
// /proc/self/fd entries flat. Sockets dropped without close() are released
// when the garbage collector finalizes them (gc is reached through
// v8.setFlagsFromString('--expose-gc'), so no vitest flags are needed).
// Needs root (namespaces); skipped otherwise.
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { open } from '../../src/handle.js';
import { addon, SystemCallError } from '../../src/native.js';
import { NETLINK_ROUTE } from '../../src/netlink/constants.js';
import { NetlinkConnection } from '../../src/netlink/socket.js';
import { readSysctl } from '../../src/sys/sysctl.js';
import { gcFunction } from '../helpers/gc.js';
import { isRoot, withNetns } from '../helpers/netns.js';

if (!isRoot) console.warn('test/integration/native-fd-leak.test.ts: skipped, needs root (network namespaces)');

const fdCount = () => readdirSync('/proc/self/fd').length;
/** vitest's own machinery may open or close an fd or two meanwhile. */
const SLACK = 3;

const tick = () => new Promise((r) => setImmediate(r));

describe.skipIf(!isRoot)('no fd leaks (root)', () => {
  it('10,000 namespace-bound sockets opened and closed: the fd count stays flat', async () => {
    await withNetns(async (ns) => {
      // Warm up: the first open loads things (the addon, the errno table) once.
      new NetlinkConnection(NETLINK_ROUTE, ns).close();
      const before = fdCount();
      let maxSeen = before;
      for (let i = 0; i < 10_000; i++) {
        const c = new NetlinkConnection(NETLINK_ROUTE, ns);
        c.close();
        if (i % 1000 === 0) maxSeen = Math.max(maxSeen, fdCount());
      }
      const after = fdCount();
      expect(after - before).toBeLessThanOrEqual(SLACK);
      expect(maxSeen - before).toBeLessThanOrEqual(SLACK);
    });
  });

  it('10,000 handles (open({netns}) + close()), by name and by path, and 1,000 with an exchange', async () => {
    await withNetns(async (ns) => {
      open({ netns: ns }).close();
      const before = fdCount();
      for (let i = 0; i < 10_000; i++) open({ netns: i % 2 ? ns : `/run/netns/${ns}` }).close();
      expect(fdCount() - before).toBeLessThanOrEqual(SLACK);
      for (let i = 0; i < 1000; i++) {
        const h = open({ netns: ns });
        expect((await h.links.get('lo'))!.index).toBe(1);
        h.close();
      }
      expect(fdCount() - before).toBeLessThanOrEqual(SLACK);
    });
  });

  it('failed opens, sysctl reads, netns moves and tap jobs leave no fds behind', async () => {
    await withNetns(async (ns) => {
      readSysctl(ns, 'net.ipv4.ip_forward');
      const before = fdCount();
      for (let i = 0; i < 1000; i++) {
        expect(() => new NetlinkConnection(NETLINK_ROUTE, 'eut-no-such-netns')).toThrow(/ENOENT/);
        readSysctl(ns, 'net.ipv4.ip_forward');
        expect(() => readSysctl(ns, 'net.ipv4.no_such_key')).toThrow();
      }
      expect(fdCount() - before).toBeLessThanOrEqual(SLACK);

      const h = open({ netns: ns });
      try {
        await withNetns(async (other) => {
          await h.links.add({ name: 'veth0', kind: 'veth', peer: 'veth1', peerNetns: other });
          const h2 = open({ netns: other });
          for (let i = 0; i < 50; i++) {
            await h2.links.set('veth1', { netns: ns });
            await h.links.set('veth1', { netns: other });
          }
          h2.close();
        });
        for (let i = 0; i < 50; i++) {
          await h.taps.create(['tap0', 'tap1'], { up: true });
          await h.taps.delete(['tap0', 'tap1']);
          await h.taps.delete('tap0').catch(() => undefined);
        }
      } finally {
        h.close();
      }
      expect(fdCount() - before).toBeLessThanOrEqual(SLACK);
    });
  });

  it('close() while an exchange is in flight closes the socket when the exchange ends', async () => {
    await withNetns(async (ns) => {
      const before = fdCount();
      for (let i = 0; i < 200; i++) {
        const h = open({ netns: ns });
        const p = h.links.list();
        h.close();
        expect((await p).map((l) => l.name)).toEqual(['lo']);
        // Asked after close(): a clear EBADF, not a hang or a crash.
        const err = await h.links.get('lo').catch((e) => e);
        expect(err).toBeInstanceOf(SystemCallError);
        expect(err.code).toBe('EBADF');
        expect(err.message).toMatch(/closed/);
      }
      await tick();
      expect(fdCount() - before).toBeLessThanOrEqual(SLACK);
    });
  });

  it('sockets dropped without close() are released by the garbage collector', async () => {
    const gc = gcFunction();
    await withNetns(async (ns) => {
      const before = fdCount();
      (() => {
        for (let i = 0; i < 2000; i++) new addon.NetlinkSocket(NETLINK_ROUTE, `/run/netns/${ns}`);
      })();
      const leaked = fdCount() - before;
      expect(leaked).toBeGreaterThanOrEqual(2000 - SLACK); // open until collected
      for (let i = 0; i < 20 && fdCount() - before > SLACK; i++) {
        gc();
        await tick();
      }
      expect(fdCount() - before).toBeLessThanOrEqual(SLACK);
    });
  });
});
