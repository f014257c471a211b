// Dry runs: a transaction rendered as `ip` / `sysctl` / `nft` commands, run
// through real `ip -batch`, `sysctl` and `nft -f` in one fresh namespace, must
// produce the same state (links, addresses, routes, ruleset) as commit() does
// in another.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { open, type Handle } from '../../src/handle.js';
import { rule } from '../../src/nft/build/builder.js';
import type { Transaction } from '../../src/tx/transaction.js';
import { isRoot, withNetns } from '../helpers/netns.js';
import { kernelDump } from '../helpers/state.js';

if (!isRoot) console.warn('test/integration/tx-dryrun.test.ts: skipped, needs root');

async function scaffold(h: Handle): Promise<void> {
  await h.links.add({ kind: 'veth', name: 'eth0', peer: 'eth0p', up: true });
  await h.addresses.add({ dev: 'eth0', address: '10.0.0.1/24' });
}

function build(h: Handle): Transaction {
  const tx = h.transaction();
  tx.addLink({ kind: 'bridge', name: 'eucabr10', stp: false, forwardDelay: 0, up: true, alias: 'eucanet' });
  tx.addLink({ kind: 'vxlan', name: 'vx10', vni: 10, local: '10.0.0.1', device: 'eth0', port: 4789, master: 'eucabr10', up: true });
  tx.addLink({ kind: 'macvlan', name: 'mv0', parent: 'eth0', mode: 'bridge' });
  for (let i = 0; i < 4; i++) tx.addTap(`vnet${i}`, { master: 'eucabr10', up: true, group: 4200, alias: `eucanet:port i-${i}` });
  tx.addLink({ kind: 'veth', name: 've0', peer: 've0p', master: 'eucabr10', mtu: 1400, up: true });
  tx.setLink('eth0', { mtu: 1450, alias: 'uplink' });
  tx.setSysctl('net.ipv4.ip_forward', 1);
  tx.addAddress({ dev: 'eucabr10', address: '10.1.2.1/27', broadcast: true });
  tx.addAddress({ dev: 'eth0', address: '192.168.32.200/32' });
  tx.addAddress({ dev: 'eth0', address: 'fd00::1/64' });
  tx.addRoute({ dst: '10.9.0.0/16', gateway: '10.1.2.9' });
  tx.addRoute({ dst: '10.10.0.0/16', dev: 'eucabr10', table: 100 });
  tx.deleteLink('mv0');
  const T = 'eucanet';
  const pub2priv = { family: 'ip' as const, table: T, name: 'pub2priv', key: 'ipv4_addr' as const, data: 'ipv4_addr' as const };
  tx.nft
    .addTable({ family: 'ip', name: T })
    .addChain({ family: 'ip', table: T, name: 'prerouting', type: 'nat', hook: 'prerouting', priority: -100, policy: 'accept' })
    .addChain({ family: 'ip', table: T, name: 'forward', type: 'filter', hook: 'forward', priority: 0, policy: 'drop' })
    .addChain({ family: 'ip', table: T, name: 'admin-default' })
    .addSet(pub2priv)
    .addElements(pub2priv, [['192.168.32.200', '10.1.2.2']])
    .addRule({ family: 'ip', table: T, chain: 'prerouting', exprs: rule().dnatMap('@pub2priv') })
    .addRule({ family: 'ip', table: T, chain: 'forward', exprs: rule().ctState('established', 'related').accept() })
    .addRule({ family: 'ip', table: T, chain: 'forward', exprs: rule().ipDaddr('10.1.2.0/27').jump('admin-default') })
    .addRule({ family: 'ip', table: T, chain: 'admin-default', exprs: rule().l4proto('tcp').dport(22).accept() });
  return tx;
}

describe.skipIf(!isRoot)('dry run (root)', () => {
  it('renders commands that, run by ip -batch, sysctl and nft -f, give the same state as commit()', async () => {
    await withNetns(async (viaCommit) => {
      await withNetns(async (viaTools) => {
        const a = open({ netns: viaCommit });
        const b = open({ netns: viaTools });
        try {
          await scaffold(a);
          await scaffold(b);
          const tx = build(a);
          await tx.commit();
          const r = build(b).render();
          expect(r.text).toMatch(/^ip tuntap add dev vnet0 mode tap$/m);
          expect(r.text).toMatch(/^ip link add name eucabr10 up type bridge stp_state 0 forward_delay 0$/m);
          expect(r.text).toMatch(/^sysctl -w net.ipv4.ip_forward=1$/m);
          // The same commands, run by the standard tools.
          execFileSync('ip', ['-n', viaTools, '-batch', '-'], { input: r.ip.join('\n') + '\n' });
          for (const kv of r.sysctl) execFileSync('ip', ['netns', 'exec', viaTools, 'sysctl', '-q', '-w', kv]);
          expect(r.nft).toMatch(/^add rule ip eucanet admin-default tcp dport 22 accept$/m);
          execFileSync('ip', ['netns', 'exec', viaTools, 'nft', '-f', '-'], { input: r.nft });
          expect(kernelDump(viaTools, { portable: true })).toBe(kernelDump(viaCommit, { portable: true }));
          // And toJSON is stable machine form in the same order.
          const json = build(b).toJSON();
          expect(json.ops.map((o) => o.op).slice(0, 5)).toEqual(['tap.add', 'tap.add', 'tap.add', 'tap.add', 'link.add']);
          expect(JSON.parse(JSON.stringify(json))).toEqual(JSON.parse(JSON.stringify(build(b).toJSON())));
        } finally {
          a.close();
          b.close();
        }
      });
    });
  });
});
