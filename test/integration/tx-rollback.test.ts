// Transactions against the real kernel: a transaction of several hundred ops
// made to fail at op k, for k spread over every phase; each time the full dump
// (ip -j -d link / address / route table all, nft list ruleset, sysctls) must
// equal the dump taken before. Then a failing undo step, and the report of
// what it left behind.
import { describe, expect, it } from 'vitest';
import { open, type Handle } from '../../src/handle.js';
import { TransactionError } from '../../src/errors.js';
import type { Transaction } from '../../src/tx/transaction.js';
import { isRoot, withNetns } from '../helpers/netns.js';
import { kernelDump } from '../helpers/state.js';
import { commitWithHooks } from '../../src/internal/testing.js';

if (!isRoot) console.warn('test/integration/tx-rollback.test.ts: skipped, needs root');

const TAPS = 100;
const ADDRS = 150;

/** 283 ops over every phase: taps, links, sets, sysctl, address/route deletes, addresses, routes, deletes. */
function build(h: Handle): Transaction {
  const tx = h.transaction();
  for (let i = 0; i < TAPS; i++) tx.addTap(`vnet${i}`, { master: 'eucabr10', up: true, group: 4200 });
  tx.addLink({ kind: 'bridge', name: 'eucabr10', stp: false, forwardDelay: 0, up: true, alias: 'eucanet' });
  tx.addLink({ kind: 'vxlan', name: 'vx10', vni: 10, local: '10.0.0.1', device: 'eth0', master: 'eucabr10', up: true });
  tx.addLink({ kind: 'veth', name: 've0', peer: 've0p', master: 'eucabr10', up: true });
  tx.setLink('pre0', { mtu: 1400, alias: 'changed', up: true, master: 'eucabr10' });
  tx.setSysctl('net.ipv4.ip_forward', 1);
  tx.deleteAddress({ dev: 'eth0', address: '10.0.0.99/24' });
  tx.deleteRoute({ dst: '10.99.0.0/16', gateway: '10.0.0.254' });
  tx.addAddress({ dev: 'eucabr10', address: '10.1.2.1/27' });
  for (let i = 0; i < ADDRS; i++) tx.addAddress({ dev: 'eth0', address: `192.168.${32 + (i >> 8)}.${i & 255}/32` });
  for (let i = 0; i < 20; i++) tx.addRoute({ dst: `10.${100 + i}.0.0/16`, gateway: '10.1.2.9' });
  for (let i = 0; i < 5; i++) tx.deleteLink(`old${i}`);
  return tx;
}

async function prepare(h: Handle): Promise<void> {
  await h.links.add({ kind: 'veth', name: 'eth0', peer: 'eth0p', up: true });
  await h.links.add({ kind: 'veth', name: 'pre0', peer: 'pre0p', mtu: 1500 });
  await h.addresses.add({ dev: 'eth0', address: '10.0.0.1/24' });
  await h.addresses.add({ dev: 'eth0', address: '10.0.0.99/24' });
  await h.routes.add({ dst: '10.99.0.0/16', gateway: '10.0.0.254' });
  for (let i = 0; i < 5; i++) await h.links.add({ kind: 'bridge', name: `old${i}` });
}

describe.skipIf(!isRoot)('transaction rollback (root)', () => {
  it('leaves the kernel exactly as it was when op k fails, for k in every phase', async () => {
    await withNetns(async (ns) => {
      const h = open({ netns: ns });
      try {
        await prepare(h);
        const before = kernelDump(ns);
        const size = build(h).size;
        expect(size).toBeGreaterThan(250);
        // Every phase, its edges, and a spread in between.
        const ks = new Set([
          0,
          1,
          50,
          TAPS - 1,
          TAPS,
          TAPS + 1,
          TAPS + 2,
          TAPS + 3,
          TAPS + 4,
          TAPS + 5,
          TAPS + 6,
          TAPS + 7,
          TAPS + 8,
          TAPS + 60,
          TAPS + 8 + ADDRS,
          TAPS + 9 + ADDRS,
          size - 6,
          size - 5,
          size - 3,
          size - 1,
        ]);
        for (const k of ks) {
          // A failure among the link deletes leaves the earlier deletes done: put them back.
          for (let i = 0; i < 5; i++) if (!(await h.links.get(`old${i}`))) await h.links.add({ kind: 'bridge', name: `old${i}` });
          const tx = build(h);
          const err = await commitWithHooks(tx, { failOp: k }).then(
            () => undefined,
            (e: unknown) => e,
          );
          expect(err, `op ${k} should fail`).toBeInstanceOf(TransactionError);
          const te = err as TransactionError;
          expect(te.opIndex, te.message).toBe(k);
          if (k < size - 5) {
            // Everything before the link deletes can be undone.
            expect(te.rolledBack, te.message).toBe(true);
            expect(te.message).toMatch(/rolled back/);
            expect(kernelDump(ns), `state after a failure at op ${k}`).toBe(before);
          } else {
            // A link delete is the point of no return: the report names what stays.
            expect(te.rolledBack).toBe(false);
            expect(te.leftBehind.join('\n')).toMatch(/link delete old\d \(cannot be undone\)|^$/);
          }
        }
      } finally {
        h.close();
      }
    });
  });

  it('reports exactly what is left behind when an undo step fails too', async () => {
    await withNetns(async (ns) => {
      const h = open({ netns: ns });
      try {
        await prepare(h);
        const tx = build(h);
        const failAt = TAPS + 60; // an address add
        const err = (await commitWithHooks(tx, { failOp: failAt, failUndoOp: 7 }).catch((e) => e)) as TransactionError;
        expect(err).toBeInstanceOf(TransactionError);
        expect(err.rolledBack).toBe(false);
        expect(err.leftBehind).toHaveLength(1);
        expect(err.leftBehind[0]).toMatch(/^tap add vnet7 \(its undo "link delete vnet7 \[injected fault\]" failed: EOPNOTSUPP\)$/);
        expect(err.message).toMatch(/ROLLBACK INCOMPLETE/);
        const links = await h.links.list();
        expect(links.map((l) => l.name)).toContain('vnet7');
        expect(links.map((l) => l.name)).not.toContain('vnet8');
      } finally {
        h.close();
      }
    });
  });

  it('sends nothing when an op is invalid, and names the op and field', async () => {
    await withNetns(async (ns) => {
      const h = open({ netns: ns });
      try {
        const before = kernelDump(ns);
        const tx = h.transaction();
        tx.addLink({ kind: 'bridge', name: 'br0' });
        tx.addLink({ kind: 'vlan', name: 'br0.4095', parent: 'br0', id: 4095 });
        tx.addAddress({ dev: 'br0', address: '10.1.2.1/33' });
        expect(tx.error?.message).toMatch(/vlan\.id 4095/);
        await expect(tx.commit()).rejects.toThrow(/op #1: invalid vlan\.id 4095.*nothing was sent/);
        expect(kernelDump(ns)).toBe(before);
      } finally {
        h.close();
      }
    });
  });
});
