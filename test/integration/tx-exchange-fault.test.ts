// Issue 12, section 2: applied ops the journal never recorded.
//
// Real failures of a netlink exchange part-way: the kernel dropping replies
// because the receive buffer is full (ENOBUFS, made real by shrinking
// SO_RCVBUF for one chunk through the addon's test-only fault argument), and a
// later chunk's sendto() failing. The requests the kernel applied must be
// known (their answers returned with the error) or settled from the kernel's
// present state, and a commit must never claim "as it was" without knowing.
// Also: taps journaled as soon as they exist, each tap with its own options.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { open, type Handle } from '../../src/handle.js';
import { ExchangeError } from '../../src/errors.js';
import type { ExchangeFault, Request } from '../../src/netlink/socket.js';
import { AddressAddRequest } from '../../src/rtnl/address.js';
import { LinkGetRequest } from '../../src/rtnl/link.js';
import { TransactionError } from '../../src/errors.js';
import { ipLinks, isRoot, nsExec, withHandle, withNetns } from '../helpers/netns.js';
import { kernelDump } from '../helpers/state.js';

if (!isRoot) console.warn('test/integration/tx-exchange-fault.test.ts: skipped, needs root');

const ENOBUFS_FAULT: ExchangeFault = { chunk: 0, rcvbuf: 1 };
const EIO = 5;

/** Addresses on `dev` as `ip -j address` shows them. */
function addressesOf(ns: string, dev: string): Set<string> {
  const out = JSON.parse(nsExec(ns, 'ip', ['-j', 'address', 'show', 'dev', dev])) as Array<{ addr_info: Array<{ local: string; prefixlen: number }> }>;
  return new Set(out.flatMap((l) => l.addr_info.map((a) => `${a.local}/${a.prefixlen}`)));
}

/** Makes the first run() whose requests satisfy `when` fail with `fault`; later ones go through. */
function faultOnce(h: Handle, fault: ExchangeFault, when: (reqs: readonly Request[]) => boolean): () => boolean {
  let fired = false;
  h.rtnl.testFault = (reqs) => {
    if (fired || !when(reqs)) return undefined;
    fired = true;
    return fault;
  };
  return () => fired;
}

/** Links given by ifindex need no lookup. */
const BY_INDEX = { index: (x: unknown) => x as number, netnsFd: () => -1 };

const addr = (i: number) => `10.${50 + (i >> 8)}.${i & 255}.1/32`;

describe.skipIf(!isRoot)('an exchange that fails part-way (root)', () => {
  it('returns the answers it got with ENOBUFS, and tells the requests the kernel saw from those it never got', async () => {
    await withHandle(async (h, ns) => {
      await h.links.add({ kind: 'veth', name: 'eth0', peer: 'eth0p', up: true });
      const index = (await h.links.get('eth0'))!.index;
      const N = 600; // three chunks of at most 256
      const reqs = Array.from({ length: N }, (_, i) => new AddressAddRequest({ dev: index, address: addr(i) }, BY_INDEX));
      faultOnce(h, ENOBUFS_FAULT, () => true);
      const err = await h.rtnl.run(reqs).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ExchangeError);
      const e = err as ExchangeError;
      expect(e.code).toBe('ENOBUFS');
      expect(e.replies).toHaveLength(N);
      // The first chunk went to the kernel; the other two never did.
      expect(e.unsent).toEqual(Array.from({ length: N - 256 }, (_, i) => 256 + i));
      expect(e.unknown.length).toBeGreaterThan(0);
      const answered = e.replies.map((_, i) => i).filter((i) => !e.unknown.includes(i) && !e.unsent.includes(i));
      expect(answered.length).toBeGreaterThan(0);
      expect(answered.length + e.unknown.length).toBe(256);
      // The oracle: every answered add is there, every unsent one is not, and
      // the unanswered ones were applied too: exactly why they cannot be forgotten.
      const have = addressesOf(ns, 'eth0');
      for (const i of answered) expect(e.replies[i].error, `request ${i}`).toBeUndefined();
      for (const i of answered) expect(have.has(addr(i))).toBe(true);
      for (const i of e.unknown) expect(have.has(addr(i))).toBe(true);
      for (const i of e.unsent) expect(have.has(addr(i))).toBe(false);
      // The connection still works, and a late answer does not land on a later exchange.
      expect((await h.links.get('eth0'))!.index).toBe(index);
    });
  });

  it('a later chunk whose sendto fails: the earlier chunks are answered, the rest was not sent', async () => {
    await withHandle(async (h, ns) => {
      await h.links.add({ kind: 'veth', name: 'eth0', peer: 'eth0p', up: true });
      const index = (await h.links.get('eth0'))!.index;
      const reqs = Array.from({ length: 300 }, (_, i) => new AddressAddRequest({ dev: index, address: addr(i) }, BY_INDEX));
      faultOnce(h, { chunk: 1, sendErrno: EIO }, () => true);
      const e = (await h.rtnl.run(reqs).catch((x: unknown) => x)) as ExchangeError;
      expect(e).toBeInstanceOf(ExchangeError);
      expect(e.code).toBe('EIO');
      expect(e.unknown).toEqual([]);
      expect(e.unsent).toEqual(Array.from({ length: 44 }, (_, i) => 256 + i));
      expect(e.replies.slice(0, 256).every((rep) => rep.error === undefined)).toBe(true);
      const have = addressesOf(ns, 'eth0');
      expect(reqs.map((_, i) => have.has(addr(i)))).toEqual(reqs.map((_, i) => i < 256));
    });
  });
});

describe.skipIf(!isRoot)('a commit whose exchange fails part-way (root)', () => {
  it('puts back link changes the kernel applied before it dropped their answers, and says the system is as it was', async () => {
    await withNetns(async (ns) => {
      const h = open({ netns: ns });
      try {
        const N = 300;
        const names = Array.from({ length: N }, (_, i) => `pre${i}`);
        await h.taps.create(names);
        const before = kernelDump(ns);
        const tx = h.transaction();
        for (const n of names) tx.setLink(n, { up: true, alias: `changed ${n}`, group: 7 });
        const fired = faultOnce(h, ENOBUFS_FAULT, (reqs) => reqs.length === N);
        const err = (await tx.commit().catch((e: unknown) => e)) as TransactionError;
        expect(fired()).toBe(true);
        expect(err).toBeInstanceOf(TransactionError);
        expect(err.code).toBe('ENOBUFS');
        expect(err.rolledBack, err.message).toBe(true);
        expect(err.message).toMatch(/the system is as it was/);
        expect(kernelDump(ns)).toBe(before);
      } finally {
        h.close();
      }
    });
  });

  it('does not claim "as it was" for address adds whose answers were lost: it names each one, and the kernel agrees', async () => {
    await withNetns(async (ns) => {
      const h = open({ netns: ns });
      try {
        await h.links.add({ kind: 'veth', name: 'eth0', peer: 'eth0p', up: true });
        const beforeAddrs = addressesOf(ns, 'eth0');
        const tx = h.transaction();
        const N = 300;
        for (let i = 0; i < N; i++) tx.addAddress({ dev: 'eth0', address: addr(i) });
        faultOnce(h, ENOBUFS_FAULT, (reqs) => reqs.length === N);
        const err = (await tx.commit().catch((e: unknown) => e)) as TransactionError;
        expect(err).toBeInstanceOf(TransactionError);
        expect(err.rolledBack).toBe(false);
        expect(err.message).not.toMatch(/as it was/);
        expect(err.message).toMatch(/outcome unknown/);
        expect(err.unknown.length).toBeGreaterThan(0);
        expect(err.leftBehind).toEqual([]);
        // Exactly the addresses reported unknown are still there; every answered one was undone.
        const named = new Set(err.unknown.map((l) => /address add (\S+)/.exec(l)![1]));
        const left = new Set([...addressesOf(ns, 'eth0')].filter((a) => !beforeAddrs.has(a)));
        expect([...left].sort()).toEqual([...named].sort());
      } finally {
        h.close();
      }
    });
  });

  it('journals each tap as soon as it exists: a failure in the lookups that settle them still removes them', async () => {
    await withNetns(async (ns) => {
      const h = open({ netns: ns });
      try {
        await h.links.add({ kind: 'bridge', name: 'eucabr10' });
        const before = kernelDump(ns);
        const tx = h.transaction();
        for (let i = 0; i < 20; i++) tx.addTap(`vnet${i}`, { master: 'eucabr10', up: true });
        // The settling lookups (RTM_GETLINK of each new tap, by name: built while the taps were being
        // made) open the commit's first pipelined send, the sets after them.
        const fired = faultOnce(h, { chunk: 0, sendErrno: EIO }, (reqs) => reqs[0] instanceof LinkGetRequest && reqs[0].ref === 'vnet0');
        const err = (await tx.commit().catch((e: unknown) => e)) as TransactionError;
        expect(fired()).toBe(true);
        expect(err).toBeInstanceOf(TransactionError);
        expect(err.code).toBe('EIO');
        expect(err.rolledBack, err.message).toBe(true);
        expect(err.message).toMatch(/rolled back \(20 applied ops undone\); the system is as it was/);
        expect(kernelDump(ns)).toBe(before);
      } finally {
        h.close();
      }
    });
  });

  it("gives each tap its own owner, group and vnet_hdr, not the first tap's", async () => {
    await withHandle(async (h, ns) => {
      const tx = h.transaction();
      tx.addTap('ta', { owner: 1000, ownerGroup: 1000 });
      tx.addTap('tb', { owner: 2000, vnetHdr: true });
      tx.addTap('tc', {});
      tx.addTap('td', { owner: 1000, ownerGroup: 1000 });
      await tx.commit();
      const info = new Map(ipLinks(ns).map((l) => [l.ifname as string, l.linkinfo?.info_data ?? {}]));
      const uid = (n: string) => String(info.get(n).user ?? '');
      const gid = (n: string) => String(info.get(n).group ?? '');
      expect([uid('ta'), gid('ta'), info.get('ta').vnet_hdr]).toEqual([numericOrName(1000, 'passwd'), numericOrName(1000, 'group'), false]);
      expect([uid('tb'), gid('tb'), info.get('tb').vnet_hdr]).toEqual([numericOrName(2000, 'passwd'), '', true]);
      expect([uid('tc'), gid('tc'), info.get('tc').vnet_hdr]).toEqual(['', '', false]);
      expect([uid('td'), gid('td')]).toEqual([numericOrName(1000, 'passwd'), numericOrName(1000, 'group')]);
    });
  });
});

/** How `ip` prints a uid or gid: the name if the system has one, else the number. */
function numericOrName(id: number, db: 'passwd' | 'group'): string {
  try {
    return execFileSync('getent', [db, String(id)], { encoding: 'utf8' }).split(':')[0];
  } catch {
    return String(id);
  }
}
