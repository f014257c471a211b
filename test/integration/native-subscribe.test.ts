// Netlink multicast subscriptions (native/netlink_subscription.cc through
// src/netlink/subscription.ts), against the kernel in throw-away namespaces:
// notifications arrive as whole messages in order, carry the port id of the
// socket that made the change, ENOBUFS becomes a 'lost' item and the socket
// keeps working, drain() reads at once, close() stops delivery at once and
// leaks no fd, one namespace's subscription sees nothing of another's, and an open
// subscription keeps the process alive unless unref'd.
import { execFile, spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { NETLINK_ROUTE } from '../../src/netlink/constants.js';
import { Subscription, type SubscriptionItem } from '../../src/netlink/subscription.js';
import { addressBurst } from '../helpers/subscribe.js';
import { RTM_NEWADDR, RTM_NEWLINK, RTNLGRP_IPV4_IFADDR, RTNLGRP_LINK } from '../../src/rtnl/constants.js';
import { isRoot, nsExec, withHandle, withNetns } from '../helpers/netns.js';

if (!isRoot) console.warn('test/integration/native-subscribe.test.ts: skipped, needs root (network namespaces)');

const run = promisify(execFile);
const fdCount = () => readdirSync('/proc/self/fd').length;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A subscription whose items are collected into `items`. */
function collect(ns: string, groups: number[], rcvbuf?: number) {
  const items: SubscriptionItem[] = [];
  const errors: Error[] = [];
  const sub = new Subscription(NETLINK_ROUTE, groups, {
    netns: ns,
    rcvbuf,
    onItems: (it) => items.push(...it),
    onError: (e) => errors.push(e),
  });
  return { sub, items, errors };
}

async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting for notifications');
    await sleep(5);
  }
}

const messages = (items: SubscriptionItem[], type: number) => items.flatMap((i) => (i.kind === 'message' && i.message.type === type ? [i.message] : []));

describe.skipIf(!isRoot)('netlink subscriptions (root)', () => {
  it("notifications arrive whole and in order; address changes carry the changer's port id, link ones port 0", async () => {
    await withHandle(async (h, ns) => {
      const { sub, items, errors } = collect(ns, [RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR]);
      try {
        expect(sub.port).toBeGreaterThan(0);
        await h.links.add({ name: 'evbr0', kind: 'bridge' });
        await h.addresses.add({ dev: 'evbr0', address: '10.6.0.1/24' });
        nsExec(ns, 'ip', ['addr', 'add', '10.6.0.2/24', 'dev', 'evbr0']);
        await h.addresses.add({ dev: 'evbr0', address: '10.6.0.3/24' });
        await until(() => messages(items, RTM_NEWADDR).length >= 3);
        const addrs = messages(items, RTM_NEWADDR);
        // In the order made: ours, ip's (its own socket's port), ours.
        expect(addrs.map((m) => m.port === h.rtnl.port)).toEqual([true, false, true]);
        expect(addrs[1].port).not.toBe(0);
        // The link notification comes from register_netdevice(), which
        // passes no port id (kernel 6.18): links cannot be attributed.
        const links = messages(items, RTM_NEWLINK);
        expect(links.length).toBeGreaterThanOrEqual(1);
        expect(links[0].port).toBe(0);
        // Whole messages: each one's length fits inside its buffer.
        for (const m of [...addrs, ...links]) expect(m.offset + m.length).toBeLessThanOrEqual(m.buf.length);
        expect(errors).toEqual([]);
      } finally {
        sub.close();
      }
    });
  });

  it('ENOBUFS (a tiny receive buffer and a burst) becomes a lost item, and the socket keeps working', async () => {
    await withHandle(async (h, ns) => {
      await h.links.add({ name: 'evbr0', kind: 'bridge' });
      const { sub, items, errors } = collect(ns, [RTNLGRP_IPV4_IFADDR], 1);
      try {
        // 300 addresses in one synchronous exchange: the event loop cannot
        // drain the subscription meanwhile, so its tiny buffer overflows.
        const idx = (await h.links.get('evbr0'))!.index;
        h.rtnl.runSync(addressBurst(idx, 300));
        await until(() => items.some((i) => i.kind === 'lost'));
        const before = messages(items, RTM_NEWADDR).length;
        expect(before).toBeLessThan(300);
        // Still working: a later change is delivered.
        await h.addresses.add({ dev: 'evbr0', address: '10.8.0.1/24' });
        await until(() => messages(items, RTM_NEWADDR).length > before);
        expect(errors).toEqual([]);
      } finally {
        sub.close();
      }
    });
  });

  it('close() stops delivery at once (even with notifications queued) and frees the fd', async () => {
    await withHandle(async (h, ns) => {
      const before = fdCount();
      const { sub, items } = collect(ns, [RTNLGRP_LINK]);
      const fd = sub.fd;
      expect(fdCount()).toBe(before + 1);
      await h.links.add({ name: 'evbr0', kind: 'bridge' }); // queued, maybe not yet read
      sub.close();
      const seen = items.length;
      await h.links.add({ name: 'evbr1', kind: 'bridge' });
      await sleep(100);
      expect(items.length).toBe(seen);
      expect(sub.fd).toBe(-1);
      expect(fdCount()).toBe(before);
      expect(fd).toBeGreaterThan(2);
    });
  });

  it('close() from inside the callback stops the drain it is in: nothing more is delivered', async () => {
    await withHandle(async (h, ns) => {
      await h.links.add({ name: 'evbr0', kind: 'bridge' });
      const idx = (await h.links.get('evbr0'))!.index;
      const calls: SubscriptionItem[][] = [];
      const sub: Subscription = new Subscription(NETLINK_ROUTE, [RTNLGRP_IPV4_IFADDR], {
        netns: ns,
        rcvbuf: 1,
        onItems: (items) => {
          calls.push(items);
          sub.close();
          // Garbage made while closing: the object must survive its own drain.
          for (let i = 0; i < 1000; i++) void new Array(100).fill(i);
        },
        onError: () => undefined,
      });
      // Notifications queued, then lost (ENOBUFS), then more queued: one drain
      // would deliver in two calls; close() in the first leaves no second.
      h.rtnl.runSync(addressBurst(idx, 100));
      await sleep(50);
      h.rtnl.runSync(addressBurst(idx, 5, 8));
      await sleep(100);
      expect(calls).toHaveLength(1);
      expect(sub.fd).toBe(-1);
    });
  });

  it('drain() delivers what is queued before it returns, paused or not; nothing twice', async () => {
    await withNetns(async (ns) => {
      const { sub, items, errors } = collect(ns, [RTNLGRP_LINK]);
      try {
        sub.pause();
        // A synchronous child: the loop does not turn, so only drain() can read these.
        nsExec(ns, 'ip', ['link', 'add', 'dr0', 'type', 'bridge']);
        nsExec(ns, 'ip', ['link', 'add', 'dr1', 'type', 'bridge']);
        expect(items).toEqual([]);
        sub.drain();
        expect(messages(items, RTM_NEWLINK).length).toBeGreaterThanOrEqual(2);
        const n = items.length;
        sub.drain();
        sub.resume();
        await sleep(100);
        expect(items.length).toBe(n);
        expect(errors).toEqual([]);
      } finally {
        sub.close();
      }
    });
  });

  it('1,000 subscriptions opened and closed leave the fd count flat', async () => {
    await withNetns(async (ns) => {
      collect(ns, [RTNLGRP_LINK]).sub.close();
      const before = fdCount();
      for (let i = 0; i < 1000; i++) collect(ns, [RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR]).sub.close();
      expect(fdCount() - before).toBeLessThanOrEqual(3);
    });
  });

  it('a subscription in one namespace sees nothing of another', async () => {
    await withHandle(async (h) => {
      await withNetns(async (other) => {
        const { sub, items } = collect(other, [RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR]);
        try {
          await h.links.add({ name: 'evbr0', kind: 'bridge', up: true });
          await h.addresses.add({ dev: 'evbr0', address: '10.7.0.1/24' });
          nsExec(other, 'ip', ['link', 'add', 'marker0', 'type', 'bridge']); // the one thing it must see
          await until(() => messages(items, RTM_NEWLINK).length >= 1);
          await sleep(50);
          expect(messages(items, RTM_NEWLINK)).toHaveLength(1);
          expect(messages(items, RTM_NEWADDR)).toHaveLength(0);
        } finally {
          sub.close();
        }
      });
    });
  });

  it('bad arguments are refused before a socket is opened, naming what is wrong', async () => {
    await withNetns(async (ns) => {
      const before = fdCount();
      expect(() => collect(ns, [0])).toThrow(/groups\[0\] must be an integer in 1-1024/);
      expect(() => collect(ns, [RTNLGRP_LINK], -1)).toThrow(/invalid rcvbuf -1/);
      expect(() => collect('eut-no-such-netns', [RTNLGRP_LINK])).toThrow(/ENOENT/);
      expect(fdCount()).toBe(before);
    });
  });

  it('an open subscription keeps the process alive; unref() lets it exit (and exit closes it cleanly)', async () => {
    await withNetns(async (ns) => {
      const child = new URL('../helpers/subscribe-child.mjs', import.meta.url).pathname;
      const { stdout } = await run(process.execPath, [child, ns, 'unref'], { timeout: 10_000 });
      expect(stdout).toMatch(/^open \d+/);

      const p = spawn(process.execPath, [child, ns, 'ref'], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      p.stdout.on('data', (d) => (out += d));
      const exited = new Promise<number | null>((r) => p.on('exit', (code) => r(code)));
      await until(() => out.includes('open'), 10_000);
      const early = await Promise.race([exited.then(() => 'exited'), sleep(1000).then(() => 'alive')]);
      p.kill('SIGTERM');
      await exited;
      expect(early).toBe('alive');
    });
  });
});
