// Issue 12, section 1: a kernel refusal of any op leaves the system exactly as
// it was, also when the kernel applied part of the refused request before
// refusing it (RTM_SETLINK applies alias, group and flags before IFLA_MASTER,
// and a bridge's other changes before IFLA_LINKINFO, and keeps them).
//
// Every case is refused by the real kernel (no injected faults), and the state
// read with ip -j -d link / address / route and nft list ruleset must be
// byte-identical before and after. A last test derives the op kinds and
// attribute combinations planRole() emits (fresh apply and repairs of drift,
// CC and NC, vxlan, none and vlan segmentation) and fails if one has no case.
import { describe, expect, it } from 'vitest';
import { open, type Handle } from '../../src/handle.js';
import { allocate } from '../../src/managed/allocate.js';
import { planRole, type Role } from '../../src/managed/roles/index.js';
import { loadState } from '../../src/managed/statefile.js';
import type { AllocatedState, State } from '../../src/managed/types.js';
import { TransactionError } from '../../src/errors.js';
import type { Op } from '../../src/tx/ops.js';
import { plan, reconcile } from '../../src/tx/reconcile.js';
import type { Transaction } from '../../src/tx/transaction.js';
import { isRoot, nsExec, withNetns } from '../helpers/netns.js';
import { kernelDump } from '../helpers/state.js';

if (!isRoot) console.warn('test/integration/tx-refusal.test.ts: skipped, needs root');

const SEED = new URL('../../examples/seed.json', import.meta.url).pathname;
const ip = (ns: string, ...args: string[]) => nsExec(ns, 'ip', args);

/** An op's kind and the attributes it sets (identity fields left out): "link.set alias,master,up". */
function combo(op: Op): string {
  const keys = (o: object, skip: string[] = []) =>
    Object.entries(o)
      .filter(([k, v]) => v !== undefined && !skip.includes(k))
      .map(([k]) => k)
      .sort()
      .join(',');
  switch (op.op) {
    case 'link.add':
      return `link.add ${op.spec.kind} ${keys(op.spec, ['name', 'kind', 'index'])}`;
    case 'tap.add':
      return `tap.add ${keys(op.spec)}`;
    case 'link.set':
      return `link.set ${keys(op.changes)}${op.changes.bridge ? ` bridge:${keys(op.changes.bridge)}` : ''}`;
    case 'address.add':
    case 'address.delete':
      return `${op.op} ${keys(op.spec, ['dev', 'address'])}`;
    case 'route.add':
    case 'route.delete':
      return `${op.op} ${keys(op.spec, ['dst', 'gateway', 'dev', 'table'])}`;
    case 'fdb.add':
    case 'fdb.append':
    case 'fdb.replace':
    case 'fdb.delete':
      return `${op.op} ${keys(op.spec, ['dev', 'lladdr', 'dst'])}`;
    default:
      return op.op;
  }
}

interface Case {
  name: string;
  /** Made outside the transaction, before the "before" dump. */
  setup(h: Handle, ns: string): Promise<void>;
  /** The transaction; the op at `fails` is the one the kernel refuses. */
  build(h: Handle): Transaction;
  fails: number | 'nft';
  code: RegExp;
}

const nics = async (h: Handle) => {
  await h.links.add({ kind: 'veth', name: 'eth0', peer: 'eth0p', up: true });
  await h.links.add({ kind: 'veth', name: 'eth1', peer: 'eth1p', up: true });
  await h.addresses.add({ dev: 'eth1', address: '10.0.0.1/24' });
};
const bridge = { kind: 'bridge', stp: false, forwardDelay: 0, multicastSnooping: false, up: true } as const;
const vxlan = { kind: 'vxlan', vni: 10, local: '10.0.0.1', multicastGroup: '239.1.1.1', device: 'eth1', port: 4789, up: true } as const;
const NO_SUCH_LINK = 999_999;
const { multicastGroup: _group, ...vxlanUnicast } = vxlan;
const ZERO_MAC = '00:00:00:00:00:00';

const CASES: Case[] = [
  {
    name: 'a new tap whose master refuses it, after its alias, group and up went through',
    setup: nics,
    // eth0 is a veth: not a master (EOPNOTSUPP), refused after IFLA_GROUP, IFLA_IFALIAS and the flags.
    build: (h) => h.transaction().addTap('vnet1', { alias: 'eucanet:port i-1', group: 4200, master: 'eth0', up: true }),
    fails: 0,
    code: /EOPNOTSUPP/,
  },
  {
    name: 'an existing tap taken over (alias, group, up, master), its master change refused with EBUSY',
    async setup(h, ns) {
      await nics(h);
      await h.links.add({ kind: 'bridge', name: 'eucabr10' });
      await h.taps.create('vnet1');
      // A macvlan on the tap holds its rx handler: the bridge cannot take it.
      ip(ns, 'link', 'add', 'mv0', 'link', 'vnet1', 'type', 'macvlan');
    },
    build: (h) => h.transaction().setLink('vnet1', { alias: 'eucanet:port i-1', group: 4200, up: true, master: 'eucabr10' }),
    fails: 0,
    code: /EBUSY/,
  },
  {
    name: "a port that is itself a bridge (ELOOP), after it was brought up (the issue's case)",
    async setup(h) {
      await nics(h);
      await h.links.add({ kind: 'bridge', name: 'eucabr0' });
      await h.links.add({ kind: 'bridge', name: 'vx1' });
    },
    build: (h) => h.transaction().setLink('vx1', { up: true, master: 'eucabr0' }),
    fails: 0,
    code: /ELOOP/,
  },
  {
    name: 'a port moved to a master that refuses it (EOPNOTSUPP), after the kernel took it out of its bridge',
    async setup(h) {
      await nics(h);
      await h.links.add({ kind: 'bridge', name: 'eucabr10' });
      await h.links.set('eth1', { master: 'eucabr10' });
    },
    // eth0 is a veth, not a master: refused only after eth1 has left eucabr10.
    build: (h) => h.transaction().setLink('eth1', { master: 'eth0' }),
    fails: 0,
    code: /EOPNOTSUPP/,
  },
  {
    name: 'a bridge repaired (up, stp off, forward delay 0) while STP is on: forward delay refused after up',
    async setup(h, ns) {
      await h.links.add({ kind: 'bridge', name: 'eucabr10', alias: 'eucanet:admin/default' });
      ip(ns, 'link', 'set', 'eucabr10', 'type', 'bridge', 'stp_state', '1', 'forward_delay', '1500');
    },
    build: (h) => h.transaction().setLink('eucabr10', { up: true, bridge: { stp: false, forwardDelay: 0 } }),
    fails: 0,
    code: /ERANGE/,
  },
  {
    name: 'a bridge repaired (up, stp off, forward delay) and then a later op refused: the bridge settings go back too',
    async setup(h, ns) {
      await nics(h);
      await h.addresses.add({ dev: 'eth0', address: '192.168.32.200/32' });
      await h.links.add({ kind: 'bridge', name: 'eucabr10', alias: 'eucanet:admin/default' });
      ip(ns, 'link', 'set', 'eucabr10', 'type', 'bridge', 'stp_state', '1', 'forward_delay', '1500');
    },
    build: (h) =>
      h
        .transaction()
        .setLink('eucabr10', { up: true, bridge: { stp: false, forwardDelay: 4 } })
        .addAddress({ dev: 'eth0', address: '192.168.32.200/32' }),
    fails: 1,
    code: /EEXIST/,
  },
  {
    // Reconcile turns a drifted bridge's STP off in a request of its own (the kernel sets the delay first).
    name: "a bridge's STP turned off alone, on a link that is gone (ENODEV), after an address went in",
    setup: nics,
    build: (h) =>
      h
        .transaction()
        .addAddress({ dev: 'eth0', address: '10.9.0.1/32' })
        .setLink(NO_SUCH_LINK, { bridge: { stp: false } }),
    fails: 1,
    code: /ENODEV/,
  },
  {
    name: 'a bridge brought up with forward delay 0 while STP is still on: refused (ERANGE) after the kernel set it up',
    async setup(h, ns) {
      await h.links.add({ kind: 'bridge', name: 'eucabr10', alias: 'eucanet:admin/default' });
      ip(ns, 'link', 'set', 'eucabr10', 'type', 'bridge', 'stp_state', '1', 'forward_delay', '1500');
    },
    build: (h) => h.transaction().setLink('eucabr10', { up: true, bridge: { forwardDelay: 0 } }),
    fails: 0,
    code: /ERANGE/,
  },
  ...(['up', 'alias', 'master', 'group'] as const).map((k): Case => ({
    name: `a link set of ${k} alone, on a link that is gone (ENODEV)`,
    setup: nics,
    build: (h) =>
      h
        .transaction()
        .addAddress({ dev: 'eth0', address: '10.9.0.1/32' })
        .setLink(NO_SUCH_LINK, { up: { up: true }, alias: { alias: 'eucanet' }, master: { master: null }, group: { group: 4200 } }[k]),
    fails: 1,
    code: /ENODEV/,
  })),
  {
    name: 'a bridge add whose name is taken (EEXIST), after another link went in',
    async setup(h) {
      await nics(h);
      await h.links.add({ kind: 'veth', name: 'eucabr11', peer: 'eucabr11p' });
    },
    build: (h) =>
      h
        .transaction()
        .addLink({ ...bridge, name: 'eucabr10', alias: 'eucanet:a' })
        .addLink({ ...bridge, name: 'eucabr11', alias: 'eucanet:b' }),
    fails: 1,
    code: /EEXIST/,
  },
  {
    name: 'a vxlan add with the VNI of an existing one (EEXIST), into a bridge made in the same commit',
    async setup(h) {
      await nics(h);
      await h.links.add({ ...vxlan, name: 'other10', up: false });
    },
    build: (h) =>
      h
        .transaction()
        .addLink({ ...bridge, name: 'eucabr10', alias: 'eucanet' })
        .addLink({ ...vxlan, name: 'eucavx10', master: 'eucabr10', alias: 'eucanet' }),
    fails: 1,
    code: /EEXIST/,
  },
  {
    name: 'a vxlan add without a multicast group (unicast flooding) with the VNI of an existing one (EEXIST), into a bridge made in the same commit',
    async setup(h) {
      await nics(h);
      await h.links.add({ ...vxlanUnicast, name: 'other10', up: false });
    },
    build: (h) =>
      h
        .transaction()
        .addLink({ ...bridge, name: 'eucabr10', alias: 'eucanet' })
        .addLink({ ...vxlanUnicast, name: 'eucavx10', master: 'eucabr10', alias: 'eucanet' }),
    fails: 1,
    code: /EEXIST/,
  },
  {
    name: 'a flood entry appended on a device that is gone (ENODEV), after one on a device that exists',
    async setup(h) {
      await nics(h);
      await h.links.add({ ...vxlanUnicast, name: 'eucavx10', alias: 'eucanet' });
    },
    build: (h) =>
      h
        .transaction()
        .add({ op: 'fdb.append', spec: { dev: 'eucavx10', lladdr: ZERO_MAC, dst: '10.0.0.11', self: true, state: 'permanent' } })
        .add({ op: 'fdb.append', spec: { dev: NO_SUCH_LINK, lladdr: ZERO_MAC, dst: '10.0.0.12', self: true, state: 'permanent' } }),
    fails: 1,
    code: /ENODEV/,
  },
  {
    name: "a static MAC replaced on a device that is gone (ENODEV), after another MAC's remote was replaced",
    async setup(h) {
      await nics(h);
      await h.links.add({ ...vxlanUnicast, name: 'eucavx10', alias: 'eucanet' });
      await h.fdb.add({ dev: 'eucavx10', lladdr: '02:00:00:00:00:01', dst: '10.0.0.11', self: true });
    },
    build: (h) =>
      h
        .transaction()
        .add({ op: 'fdb.replace', spec: { dev: 'eucavx10', lladdr: '02:00:00:00:00:01', dst: '10.0.0.12', self: true, state: 'permanent' } })
        .add({ op: 'fdb.replace', spec: { dev: NO_SUCH_LINK, lladdr: '02:00:00:00:00:02', dst: '10.0.0.12', self: true, state: 'permanent' } }),
    fails: 1,
    code: /ENODEV/,
  },
  {
    name: 'a flood entry delete of a MAC with no entry (ENOENT), after another flood entry was deleted',
    async setup(h) {
      await nics(h);
      await h.links.add({ ...vxlanUnicast, name: 'eucavx10', alias: 'eucanet' });
      await h.fdb.append({ dev: 'eucavx10', lladdr: ZERO_MAC, dst: '10.0.0.11', self: true });
    },
    build: (h) =>
      h
        .transaction()
        .add({ op: 'fdb.delete', spec: { dev: 'eucavx10', lladdr: ZERO_MAC, dst: '10.0.0.11', self: true, state: 'permanent' } })
        .add({ op: 'fdb.delete', spec: { dev: 'eucavx10', lladdr: '02:00:00:00:00:01', dst: '10.0.0.11', self: true, state: 'permanent' } }),
    fails: 1,
    code: /ENOENT/,
  },
  {
    name: 'a vlan add on a parent that is gone (refused: ENODEV, or EOPNOTSUPP without 8021q)',
    setup: nics,
    build: (h) =>
      h
        .transaction()
        .addLink({ ...bridge, name: 'eucabr10', alias: 'eucanet' })
        .addLink({ kind: 'vlan', name: 'eth0.10', parent: NO_SUCH_LINK, id: 10, master: 'eucabr10', up: true, alias: 'eucanet' }),
    fails: 1,
    code: /ENODEV|EOPNOTSUPP/,
  },
  {
    name: 'an address add of an address already there (EEXIST)',
    async setup(h) {
      await nics(h);
      await h.addresses.add({ dev: 'eth0', address: '192.168.32.200/32' });
    },
    build: (h) =>
      h
        .transaction()
        .addAddress({ dev: 'eth0', address: '192.168.32.201/32', proto: 240 })
        .addAddress({ dev: 'eth0', address: '192.168.32.200/32', proto: 240 }),
    fails: 1,
    code: /EEXIST/,
  },
  {
    name: 'an address delete of an address not there (EADDRNOTAVAIL)',
    setup: nics,
    build: (h) => h.transaction().addAddress({ dev: 'eth0', address: '192.168.32.201/32' }).deleteAddress({ dev: 'eth0', address: '192.168.32.9/32' }),
    fails: 1,
    code: /EADDRNOTAVAIL/,
  },
  {
    name: 'a route delete of a route not there (ESRCH)',
    setup: nics,
    build: (h) =>
      h
        .transaction()
        .addAddress({ dev: 'eth0', address: '192.168.32.201/32' })
        .deleteRoute({ dst: '10.77.0.0/16', gateway: '10.0.0.254', dev: 'eth1', table: 254, protocol: 240 }),
    fails: 1,
    code: /ESRCH/,
  },
  {
    name: 'a sysctl the kernel refuses (EINVAL), after a link, a port and an address',
    setup: nics,
    build: (h) =>
      h
        .transaction()
        .addLink({ ...bridge, name: 'eucabr0', alias: 'eucanet' })
        .setLink('eth1', { up: true, master: 'eucabr0' })
        .addAddress({ dev: 'eucabr0', address: '10.1.0.1/16' })
        .setSysctl('net.ipv4.ip_forward', 'x'),
    fails: 3,
    code: /EINVAL/,
  },
  {
    name: 'a link delete the kernel refuses (lo: EOPNOTSUPP)',
    setup: nics,
    build: (h) => h.transaction().addAddress({ dev: 'eth0', address: '192.168.32.201/32' }).deleteLink('lo'),
    fails: 1,
    code: /EOPNOTSUPP/,
  },
  {
    name: 'a device group delete with no such group (ENODEV)',
    setup: nics,
    build: (h) => h.transaction().addAddress({ dev: 'eth0', address: '192.168.32.201/32' }).deleteLinkGroup(4242),
    fails: 1,
    code: /ENODEV/,
  },
  {
    name: 'an nftables batch the kernel refuses (a chain in a missing table: ENOENT), after taps, links and addresses',
    setup: nics,
    build(h) {
      const tx = h
        .transaction()
        .addTap('vnet1', { master: 'eucabr10', up: true })
        .addLink({ ...bridge, name: 'eucabr10', alias: 'eucanet' });
      tx.addAddress({ dev: 'eucabr10', address: '10.1.2.1/27' });
      tx.nft.addTable({ family: 'ip', name: 'eucanet' }).addChain({ family: 'ip', table: 'eucanet-missing', name: 'c' });
      return tx;
    },
    fails: 'nft',
    code: /ENOENT/,
  },
];

describe.skipIf(!isRoot)('a kernel refusal of any op leaves everything as it was (root)', () => {
  for (const c of CASES) {
    it(c.name, async () => {
      await withNetns(async (ns) => {
        const h = open({ netns: ns });
        try {
          await c.setup(h, ns);
          const before = await settledDump(ns);
          const tx = c.build(h);
          const err = (await tx.commit().then(
            () => undefined,
            (e: unknown) => e,
          )) as TransactionError;
          expect(err, 'the commit must fail').toBeInstanceOf(TransactionError);
          expect(err.cause.message).toMatch(c.code);
          if (c.fails !== 'nft') expect(err.opIndex, err.message).toBe(c.fails);
          expect(err.rolledBack, err.message).toBe(true);
          expect(err.message).toMatch(/the system is as it was/);
          expect(kernelDump(ns, { linkwatch: true }), err.message).toBe(before);
        } finally {
          h.close();
        }
      });
    });
  }

  it('covers every op kind and attribute combination planRole emits', async () => {
    const emitted = new Set<string>();
    const { state: seed } = await loadState(SEED);
    const roles: Role[] = [{ role: 'cc' }, { role: 'nc', node: 'nc1' }];
    for (const segmentation of ['vxlan', 'none', 'vlan'] as const) {
      const s = structuredClone<State>(seed);
      s.segmentation = segmentation;
      s.mode = segmentation === 'none' ? 'MANAGED-NOVLAN' : 'MANAGED';
      const state: AllocatedState = allocate(s);
      for (const role of roles) {
        for (const op of await emittedOps(state, role, segmentation !== 'vlan')) emitted.add(op);
      }
    }
    const covered = new Set<string>();
    await withNetns(async (ns) => {
      const h = open({ netns: ns });
      try {
        for (const c of CASES) {
          const tx = c.build(h);
          if (c.fails === 'nft') covered.add('nft');
          else covered.add(combo(tx.ops[c.fails]));
        }
      } finally {
        h.close();
      }
    });
    const missing = [...emitted].filter((k) => !covered.has(k)).sort();
    console.log(`planRole emits: ${[...emitted].sort().join(' | ')}`);
    expect(missing).toEqual([]);
  });
});

/**
 * The dump once the setup has settled. The kernel's lazy link-state work
 * (linkwatch: operstate, carrier, up to a second after a change, later on a
 * loaded machine) is left out of both sides of the comparison: it follows the
 * setup's carrier changes, not the transaction's.
 */
async function settledDump(ns: string): Promise<string> {
  let last = kernelDump(ns, { linkwatch: true });
  for (let i = 0; i < 15; i++) {
    await new Promise((r) => setTimeout(r, 200));
    const now = kernelDump(ns, { linkwatch: true });
    if (now === last) return now;
    last = now;
  }
  return last;
}

/** The combinations planRole's plans hold: against a bare host, and (if it can be applied here) against drift. */
async function emittedOps(state: AllocatedState, role: Role, applicable: boolean): Promise<string[]> {
  const want = planRole(state, role);
  return withNetns(async (ns) => {
    const h = open({ netns: ns });
    const out: string[] = [];
    const collect = (txs: Transaction[]) => {
      for (const tx of txs) {
        for (const op of tx.ops) out.push(combo(op));
        if (tx.size > tx.ops.length) out.push('nft');
      }
    };
    try {
      await nics(h);
      const fresh = await plan(h, want);
      collect([fresh.removals, fresh.changes]);
      if (!applicable) return out;
      await reconcile(h, want);
      await drift(h, ns);
      const repair = await plan(h, want);
      collect([repair.removals, repair.changes]);
      return out;
    } finally {
      h.close();
    }
  });
}

/** Changes an applied host the ways a host drifts: ports down and out, STP on, stray owned objects. */
async function drift(h: Handle, ns: string): Promise<void> {
  const links = await h.links.list();
  for (const l of links) {
    if (l.kind === 'tun') ip(ns, 'link', 'set', l.name, 'down', 'nomaster', 'group', '0', 'alias', 'x');
    if (l.kind === 'bridge') ip(ns, 'link', 'set', l.name, 'down', 'type', 'bridge', 'stp_state', '1', 'forward_delay', '1500');
    if (l.name === 'eth1' || (l.name === 'eth0' && l.master !== undefined)) ip(ns, 'link', 'set', l.name, 'down', 'nomaster');
  }
  const br = links.find((l) => l.kind === 'bridge');
  await h.links.add({ kind: 'bridge', name: 'eucabr99', alias: 'eucanet:stray' });
  await h.links.add({ kind: 'veth', name: 'stray0', peer: 'stray0p', ...(br ? { master: br.name } : {}) });
  await h.taps.create(['vnet98', 'vnet99'], { alias: 'eucanet:port x', group: 4200 });
  await h.addresses.add({ dev: 'eth0', address: '192.168.99.1/32', proto: 240 });
  ip(ns, 'link', 'set', 'eth0', 'up');
  await h.routes.add({ dst: '10.99.0.0/16', dev: 'eth0', protocol: 240 });
  // A flood entry to a host that is gone.
  const vx = links.find((l) => l.kind === 'vxlan');
  if (vx) await h.fdb.append({ dev: vx.name, lladdr: '00:00:00:00:00:00', dst: '10.0.0.99', self: true });
}
