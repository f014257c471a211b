// A commit's link sets, address and route changes go to the kernel in one
// exchange (one hop to the worker thread), after the new taps' lookups; the
// exchange stops after the first step with a refusal, so nothing after it is
// sent, as when each phase had its own exchange. Checked against the kernel
// with `ip -j`.
import { describe, expect, it } from 'vitest';
import { TransactionError } from '../../src/errors.js';
import type { Request } from '../../src/netlink/socket.js';
import { AddressAddRequest } from '../../src/rtnl/address.js';
import { LinkAddRequest, LinkGetRequest, LinkSetRequest } from '../../src/rtnl/link.js';
import { Journal } from '../../src/tx/journal.js';
import { readOwned } from '../../src/tx/nft-diff.js';
import { isRoot, nftRuleset, nsExec, withHandle } from '../helpers/netns.js';

if (!isRoot) console.warn('test/integration/tx-joined.test.ts: skipped, needs root');

/** Links given by ifindex need no lookup. */
const BY_INDEX = { index: (x: unknown) => x as number, netnsFd: () => -1 };

const addrs = (ns: string, dev: string): string[] =>
  (JSON.parse(nsExec(ns, 'ip', ['-j', '-4', 'addr', 'show', 'dev', dev])) as Array<{ addr_info: Array<{ local: string }> }>).flatMap((l) =>
    l.addr_info.map((a) => a.local),
  );

describe.skipIf(!isRoot)('one exchange for the joined phases (root)', () => {
  it('sends taps lookups, sets and addresses of a bring-up as one pipelined exchange', async () => {
    await withHandle(async (h, ns) => {
      await h.links.add({ kind: 'bridge', name: 'eucabr10', up: true });
      await h.links.add({ kind: 'veth', name: 'eth0', peer: 'eth0p', up: true });
      const sizes: number[] = [];
      h.rtnl.testFault = (reqs: readonly Request[]) => {
        sizes.push(reqs.length);
        return undefined;
      };
      const tx = h.transaction();
      for (let i = 0; i < 20; i++) tx.addTap(`vnet${i}`, { master: 'eucabr10', up: true, group: 4200 });
      for (let i = 0; i < 20; i++) tx.addAddress({ dev: 'eth0', address: `172.16.0.${i + 1}/32` });
      await tx.commit();
      // The bridge and eth0 resolved on the spot (no message), then 20 lookups + 20 marks (the group, while
      // each tap is down) + 20 sets + 20 addresses, one exchange (it was three).
      expect(sizes).toEqual([80]);
      const links = JSON.parse(nsExec(ns, 'ip', ['-j', 'link', 'show', 'master', 'eucabr10'])) as Array<{ ifname: string }>;
      expect(links.map((l) => l.ifname).sort()).toEqual(Array.from({ length: 20 }, (_, i) => `vnet${i}`).sort());
      expect(addrs(ns, 'eth0')).toHaveLength(20);
    });
  });

  it('marks every new tap (alias, group) before any set brings one up, and the kernel ends with both', async () => {
    await withHandle(async (h, ns) => {
      await h.links.add({ kind: 'bridge', name: 'eucabr10', up: true });
      const sent: LinkSetRequest[] = [];
      h.rtnl.testFault = (reqs: readonly Request[]) => {
        for (const r of reqs) if (r instanceof LinkSetRequest) sent.push(r);
        return undefined;
      };
      const tx = h.transaction();
      for (let i = 0; i < 5; i++) tx.addTap(`vnet${i}`, { master: 'eucabr10', up: true, group: 4200, alias: `eucanet:port i-${i}` });
      await tx.commit();
      const shown = sent.map((r) => [r.ref, Object.keys(r.changes).sort().join(',')]);
      expect(shown).toEqual([
        ...Array.from({ length: 5 }, (_, i) => [`vnet${i}`, 'alias,group']),
        ...Array.from({ length: 5 }, (_, i) => [`vnet${i}`, 'master,up']),
      ]);
      const links = JSON.parse(nsExec(ns, 'ip', ['-j', '-d', 'link', 'show', 'master', 'eucabr10'])) as Array<{
        ifname: string;
        flags: string[];
        group: string;
        ifalias?: string;
      }>;
      expect(links.map((l) => [l.ifname, l.flags.includes('UP'), l.group, l.ifalias]).sort()).toEqual(
        Array.from({ length: 5 }, (_, i) => [`vnet${i}`, true, '4200', `eucanet:port i-${i}`]),
      );
    });
  });

  it('builds that exchange while the taps are being made: runSteps gets it encoded, its lookups by name', async () => {
    await withHandle(async (h, ns) => {
      await h.links.add({ kind: 'bridge', name: 'eucabr10', up: true });
      await h.links.add({ kind: 'veth', name: 'eth0', peer: 'eth0p', up: true });
      const calls: Array<{ encoded: boolean; first: unknown }> = [];
      const runSteps = h.rtnl.runSteps.bind(h.rtnl);
      h.rtnl.runSteps = (steps, encoded) => {
        calls.push({ encoded: encoded?.steps === steps, first: (steps[0][0] as LinkGetRequest).ref });
        return runSteps(steps, encoded);
      };
      const tx = h.transaction();
      for (let i = 0; i < 20; i++) tx.addTap(`vnet${i}`, { master: 'eucabr10', up: true, group: 4200 });
      for (let i = 0; i < 20; i++) tx.addAddress({ dev: 'eth0', address: `172.16.0.${i + 1}/32` });
      await tx.commit();
      expect(calls).toEqual([{ encoded: true, first: 'vnet0' }]);
      const links = JSON.parse(nsExec(ns, 'ip', ['-j', 'link', 'show', 'master', 'eucabr10'])) as Array<{ ifname: string; flags: string[]; group: string }>;
      expect(links.map((l) => l.ifname).sort()).toEqual(Array.from({ length: 20 }, (_, i) => `vnet${i}`).sort());
      expect(links.every((l) => l.flags.includes('UP') && l.group === '4200')).toBe(true);
      expect(addrs(ns, 'eth0')).toHaveLength(20);
    });
  });

  it("builds the link adds between the taps and that exchange ahead too (a node's new bridges)", async () => {
    await withHandle(async (h, ns) => {
      await h.links.add({ kind: 'veth', name: 'eth0', peer: 'eth0p', up: true });
      const seen: string[] = [];
      const run = h.rtnl.run.bind(h.rtnl);
      h.rtnl.run = (reqs, base, encoded) => {
        if (reqs[0] instanceof LinkAddRequest) seen.push(`link adds${encoded?.requests === reqs ? ', encoded ahead' : ''}`);
        return run(reqs, base, encoded);
      };
      const runSteps = h.rtnl.runSteps.bind(h.rtnl);
      h.rtnl.runSteps = (steps, encoded) => {
        seen.push(`joined${encoded?.steps === steps ? ', encoded ahead' : ''}`);
        return runSteps(steps, encoded);
      };
      const tx = h.transaction();
      for (let i = 0; i < 12; i++) tx.addTap(`vnet${i}`, { master: `eucabr${10 + (i % 3)}`, up: true });
      for (let b = 0; b < 3; b++) tx.addLink({ kind: 'bridge', name: `eucabr${10 + b}`, up: true, stp: false });
      tx.addAddress({ dev: 'eth0', address: '192.168.100.11/24' });
      await tx.commit();
      expect(seen).toEqual(['link adds, encoded ahead', 'joined, encoded ahead']);
      for (let b = 0; b < 3; b++) {
        const ports = JSON.parse(nsExec(ns, 'ip', ['-j', 'link', 'show', 'master', `eucabr${10 + b}`])) as Array<{ ifname: string }>;
        expect(ports.map((l) => l.ifname).sort()).toEqual([0, 1, 2, 3].map((k) => `vnet${k * 3 + b}`).sort());
      }
      expect(addrs(ns, 'eth0')).toEqual(['192.168.100.11']);
    });
  });

  it("still sends a request that needs a new tap's ifindex (an address on the tap) right", async () => {
    // Built at its turn, after the taps (their ifindexes are not known before), unless the
    // snapshot happened to see the tap already: either way one exchange, and the kernel agrees.
    await withHandle(async (h, ns) => {
      await h.links.add({ kind: 'bridge', name: 'eucabr10', up: true });
      let calls = 0;
      const runSteps = h.rtnl.runSteps.bind(h.rtnl);
      h.rtnl.runSteps = (steps, encoded) => {
        calls++;
        return runSteps(steps, encoded);
      };
      const tx = h.transaction();
      tx.addTap('vnet0', { master: 'eucabr10', up: true });
      tx.addAddress({ dev: 'vnet0', address: '10.7.0.1/24' });
      await tx.commit();
      expect(calls).toBe(1);
      expect(addrs(ns, 'vnet0')).toEqual(['10.7.0.1']);
      const [tap] = JSON.parse(nsExec(ns, 'ip', ['-j', 'link', 'show', 'dev', 'vnet0'])) as Array<{ master: string }>;
      expect(tap.master).toBe('eucabr10');
    });
  });

  it('sends the nftables batch once that exchange is answered without a refusal, before its answers are journaled', async () => {
    await withHandle(async (h, ns) => {
      await h.links.add({ kind: 'bridge', name: 'eucabr10', up: true });
      await h.links.add({ kind: 'veth', name: 'eth0', peer: 'eth0p', up: true });
      const journaled: number[] = [];
      const proto = Journal.prototype;
      const push = Object.getOwnPropertyDescriptor(proto, 'push')!;
      let entries = 0;
      Object.defineProperty(proto, 'push', {
        ...push,
        value(this: Journal, step: Parameters<Journal['push']>[0]) {
          entries++;
          return (push.value as Journal['push']).call(this, step);
        },
      });
      // A batch this small goes out from the JavaScript thread (exchangeSync); a larger one through exchange().
      const exchange = h.nft.conn.exchange.bind(h.nft.conn);
      h.nft.conn.exchange = (...args: Parameters<typeof exchange>) => {
        journaled.push(entries);
        return exchange(...args);
      };
      const exchangeSync = h.nft.conn.exchangeSync.bind(h.nft.conn);
      h.nft.conn.exchangeSync = (...args: Parameters<typeof exchangeSync>) => {
        journaled.push(entries);
        return exchangeSync(...args);
      };
      try {
        const tx = h.transaction();
        for (let i = 0; i < 10; i++) tx.addTap(`vnet${i}`, { master: 'eucabr10', up: true });
        for (let i = 0; i < 10; i++) tx.addAddress({ dev: 'eth0', address: `172.16.0.${i + 1}/32` });
        tx.nft.addTable({ family: 'ip', name: 'eucanet' });
        await tx.commit();
      } finally {
        Object.defineProperty(proto, 'push', push);
      }
      // The taps were journaled as they were made (10); the batch went out before the addresses'
      // undos were (10 more; a new tap's set needs none: the tap goes).
      expect(journaled).toEqual([10]);
      expect(entries).toBe(20);
      expect(nftRuleset(ns).some((o) => o.table?.name === 'eucanet')).toBe(true);
      expect(addrs(ns, 'eth0')).toHaveLength(10);
    });
  });

  it('runSteps: a step with a refusal ends the exchange; the steps after it are not sent', async () => {
    await withHandle(async (h, ns) => {
      await h.links.add({ kind: 'veth', name: 'eth0', peer: 'eth0p', up: true });
      const eth0 = Number(JSON.parse(nsExec(ns, 'ip', ['-j', 'link', 'show', 'dev', 'eth0']))[0].ifindex);
      const add = (a: string) => new AddressAddRequest({ dev: eth0, address: a }, BY_INDEX);
      const { replies, sent } = await h.rtnl.runSteps([[add('10.9.0.1/32')], [new LinkGetRequest(999_999)], [add('10.9.0.2/32')]]);
      expect(sent).toBe(2);
      expect(replies.map((r) => r.map((x) => x.error?.code))).toEqual([[undefined], ['ENODEV'], [undefined]]);
      expect(addrs(ns, 'eth0')).toEqual(['10.9.0.1']);
      // The same requests in one run(): the kernel handles each on its own, so the third goes in.
      const plain = await h.rtnl.run([add('10.9.0.3/32'), new LinkGetRequest(999_999), add('10.9.0.4/32')]);
      expect(plain.map((x) => x.error?.code)).toEqual([undefined, 'ENODEV', undefined]);
      expect(addrs(ns, 'eth0').sort()).toEqual(['10.9.0.1', '10.9.0.3', '10.9.0.4']);
    });
  });

  it('a refused set stops the exchange before the addresses, and the rollback leaves the system as it was', async () => {
    await withHandle(async (h, ns) => {
      await h.links.add({ kind: 'veth', name: 'eth0', peer: 'eth0p', up: true });
      const tx = h.transaction();
      // eth0 is a veth, not a master: EOPNOTSUPP.
      tx.addTap('vnet0', { master: 'eth0', up: true });
      tx.addAddress({ dev: 'eth0', address: '172.16.9.1/32' });
      const sizes: number[] = [];
      h.rtnl.testFault = (reqs: readonly Request[]) => {
        sizes.push(reqs.length);
        return undefined;
      };
      const err = (await tx.commit().catch((e: unknown) => e)) as TransactionError;
      expect(err).toBeInstanceOf(TransactionError);
      expect(err.code).toBe('EOPNOTSUPP');
      expect(err.opIndex).toBe(0);
      expect(err.rolledBack, err.message).toBe(true);
      // Undone: the tap (a new tap's refused set has no pre-image); the address add was never sent.
      expect(err.message).toMatch(/rolled back \(1 applied op undone\); the system is as it was/);
      // eth0 resolved on the spot (no message), then the tap's lookup, its set and the address in one
      // exchange (the rollback's come after it).
      expect(sizes[0]).toBe(3);
      expect(addrs(ns, 'eth0')).toEqual([]);
      expect(nsExec(ns, 'ip', ['-j', 'link', 'show'])).not.toContain('vnet0');
    });
  });

  it("reads eucanet's nft tables in three exchanges however many tables and sets, the same as nft -j lists them", async () => {
    await withHandle(async (h, ns) => {
      const tx = h.transaction();
      for (const t of ['eucanet', 'eucanet-a', 'eucanet-b']) {
        const set = { family: 'ip', table: t, name: 'm', key: 'ipv4_addr', data: 'ipv4_addr' } as const;
        tx.nft.addTable({ family: 'ip', name: t }).addChain({ family: 'ip', table: t, name: 'c' }).addSet(set);
        tx.nft.addSet({ ...set, name: 'n' });
        tx.nft.addElements(set, [
          ['10.0.0.1', '172.16.0.1'],
          ['10.0.0.2', '172.16.0.2'],
        ]);
      }
      tx.nft.addTable({ family: 'ip', name: 'other' });
      await tx.commit();
      const conn = h.nft.conn as unknown as { exchange: (...a: unknown[]) => Promise<Buffer> };
      const real = conn.exchange.bind(conn);
      let exchanges = 0;
      conn.exchange = (...a: unknown[]) => {
        exchanges++;
        return real(...a);
      };
      const cur = await readOwned(h.nft);
      expect(exchanges).toBe(3);
      expect(cur.genid).toBeTypeOf('number');
      expect(cur.tables.map((t) => t.name).sort()).toEqual(['eucanet', 'eucanet-a', 'eucanet-b']);
      expect(cur.chains).toHaveLength(3);
      const oracle = nftRuleset(ns).filter((o) => o.map && o.map.table.startsWith('eucanet'));
      expect(cur.sets.map((x) => `${x.table}/${x.name}`).sort()).toEqual(oracle.map((o) => `${o.map.table}/${o.map.name}`).sort());
      // Plain maps come as byte pairs (cur.pairs, wire/setelem-pairs.ts); others as decoded elements.
      const count = (k: string) => cur.pairs?.get(k)?.pairs.size ?? cur.elements.get(k)?.length ?? 0;
      for (const o of oracle) expect(count(`ip ${o.map.table} ${o.map.name}`)).toBe(o.map.elem?.length ?? 0);
    });
  });
});
