// Error cases against the real kernel. Each gives a typed error (NetlinkError
// from the kernel, ValidationError for input refused up front) naming the op
// and, where it can be known, the field. For invalid input the kernel must not
// have been touched: the namespace's link list is unchanged, and the next
// ifindex the kernel hands out is the one it would have handed out anyway (a
// link created and deleted in between would have used one up).
// Needs root; skipped otherwise.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import type { Handle } from '../../src/handle.js';
import { isExists, isInvalid, isNotFound, NetlinkError, ValidationError } from '../../src/errors.js';
import { isRoot, withHandle } from '../helpers/netns.js';
import { rejection } from '../helpers/rejection.js';

if (!isRoot) console.warn('test/integration/rtnl-errors.test.ts: skipped, needs root (network namespaces)');

const ipLinkJson = (ns: string) => execFileSync('ip', ['-n', ns, '-j', 'link', 'show'], { encoding: 'utf8' });

/** Runs `fn`, which must fail without touching the kernel, and checks that it did not. */
async function untouched(h: Handle, ns: string, fn: () => Promise<unknown>): Promise<any> {
  const before = { ip: ipLinkJson(ns), lib: JSON.stringify(await h.links.list()) };
  const err = await rejection(fn());
  expect(ipLinkJson(ns)).toBe(before.ip);
  expect(JSON.stringify(await h.links.list())).toBe(before.lib);
  return err;
}

/** The kernel's next ifindex is max+1 only if nothing was created (and deleted) meanwhile. */
async function expectNextIndex(h: Handle, expected: number): Promise<void> {
  await h.links.add({ name: 'probe0', kind: 'bridge' });
  expect((await h.links.get('probe0'))!.index).toBe(expected);
  await h.links.delete('probe0');
}

describe.skipIf(!isRoot)('errors (root, a fresh namespace per test)', () => {
  it('EEXIST: a link, an address and a route that already exist', async () => {
    await withHandle(async (h) => {
      await h.links.add({ name: 'br0', kind: 'bridge', up: true });
      let err = await rejection(h.links.add({ name: 'br0', kind: 'bridge' }));
      expect(err).toBeInstanceOf(NetlinkError);
      expect(err).toMatchObject({ code: 'EEXIST', errno: 17, op: 'link add br0 (bridge)' });
      expect(isExists(err)).toBe(true);
      expect(err.message).toBe('link add br0 (bridge): EEXIST');

      await h.links.add({ name: 'vx1', kind: 'vxlan', vni: 5 });
      err = await rejection(h.links.add({ name: 'vx2', kind: 'vxlan', vni: 5 }));
      expect(err).toMatchObject({ code: 'EEXIST', op: 'link add vx2 (vxlan)' });
      expect(err.extack).toMatch(/VNI already exists/);

      await h.addresses.add({ dev: 'br0', address: '10.0.0.1/24' });
      err = await rejection(h.addresses.add({ dev: 'br0', address: '10.0.0.1/24' }));
      expect(err).toBeInstanceOf(NetlinkError);
      expect(err).toMatchObject({ code: 'EEXIST', op: 'address add 10.0.0.1/24 dev br0' });
      expect(err.extack).toMatch(/already assigned/);

      await h.routes.add({ dst: '10.9.0.0/16', dev: 'br0' });
      err = await rejection(h.routes.add({ dst: '10.9.0.0/16', dev: 'br0' }));
      expect(err).toMatchObject({ code: 'EEXIST', op: 'route add 10.9.0.0/16 dev br0' });
    });
  });

  it('ENODEV: changing or deleting a link that does not exist, by name or ifindex', async () => {
    await withHandle(async (h) => {
      let err = await rejection(h.links.delete('nope0'));
      expect(err).toBeInstanceOf(NetlinkError);
      expect(err).toMatchObject({ code: 'ENODEV', errno: 19, op: 'link delete nope0' });
      expect(isNotFound(err)).toBe(true);

      err = await rejection(h.links.set('nope0', { mtu: 1400 }));
      expect(err).toMatchObject({ code: 'ENODEV', op: 'link set nope0 (mtu)' });
      err = await rejection(h.links.set(9999, { up: true }));
      expect(err).toMatchObject({ code: 'ENODEV', op: 'link set #9999 (up)' });
      err = await rejection(h.links.delete(9999));
      expect(err).toMatchObject({ code: 'ENODEV', op: 'link delete #9999' });

      // A rename and address/route ops resolve the name first: ENODEV naming the field.
      err = await rejection(h.links.set('nope0', { name: 'nope1' }));
      expect(err).toMatchObject({ code: 'ENODEV', op: 'link set nope0', attribute: 'link' });
      err = await rejection(h.addresses.add({ dev: 'nope0', address: '10.0.0.1/24' }));
      expect(err).toMatchObject({ code: 'ENODEV', op: 'address add 10.0.0.1/24', attribute: 'dev' });
      err = await rejection(h.routes.add({ dst: '10.9.0.0/16', dev: 'nope0' }));
      expect(err).toMatchObject({ code: 'ENODEV', op: 'route add 10.9.0.0/16', attribute: 'dev' });

      // Not-found errors from the other tables.
      await h.links.add({ name: 'br0', kind: 'bridge' });
      err = await rejection(h.addresses.delete({ dev: 'br0', address: '10.0.0.9/24' }));
      expect(err).toMatchObject({ code: 'EADDRNOTAVAIL', op: 'address delete 10.0.0.9/24 dev br0' });
      expect(isNotFound(err)).toBe(true);
      err = await rejection(h.routes.delete({ dst: '10.9.0.0/16', dev: 'br0' }));
      expect(err).toMatchObject({ code: 'ESRCH', op: 'route delete 10.9.0.0/16' });
      expect(isNotFound(err)).toBe(true);
    });
  });

  it('a bad parent, master or underlying device: named in the error, kernel untouched', async () => {
    await withHandle(async (h, ns) => {
      await h.links.add({ name: 'br0', kind: 'bridge' });
      const next = (await h.links.list()).reduce((m, l) => Math.max(m, l.index), 0) + 1;

      const cases: Array<[string, () => Promise<unknown>, string]> = [
        ['macvlan parent', () => h.links.add({ name: 'mv0', kind: 'macvlan', parent: 'nope0' }), 'macvlan.parent'],
        ['vlan parent', () => h.links.add({ name: 'v0', kind: 'vlan', parent: 'nope0', id: 10 }), 'vlan.parent'],
        ['vxlan device', () => h.links.add({ name: 'vx0', kind: 'vxlan', vni: 5, device: 'nope0' }), 'vxlan.device'],
        ['master', () => h.links.add({ name: 'veth0', kind: 'veth', peer: 'veth1', master: 'nope0' }), 'master'],
        ['set master', () => h.links.set('br0', { master: 'nope0' }), 'master'],
      ];
      for (const [what, fn, field] of cases) {
        const err = await untouched(h, ns, fn);
        expect(err, what).toBeInstanceOf(NetlinkError);
        expect(err, what).toMatchObject({ code: 'ENODEV', attribute: field, extack: 'no link named "nope0"' });
        expect(err.op, what).toMatch(/^link (add|set) /);
        expect(err.message, what).toContain(field);
      }
      await expectNextIndex(h, next);

      // A parent given by ifindex is checked by the kernel: ENODEV for the op.
      let err = await untouched(h, ns, () => h.links.add({ name: 'mv0', kind: 'macvlan', parent: 9999 }));
      expect(err).toMatchObject({ code: 'ENODEV', op: 'link add mv0 (macvlan)' });
      // A parent that exists but cannot carry a macvlan (loopback): EINVAL from the kernel.
      err = await untouched(h, ns, () => h.links.add({ name: 'mv0', kind: 'macvlan', parent: 'lo' }));
      expect(err).toMatchObject({ code: 'EINVAL', op: 'link add mv0 (macvlan)' });
      // A master that is not a bridge.
      await h.links.add({ name: 'veth0', kind: 'veth', peer: 'veth1' });
      err = await rejection(h.links.set('br0', { master: 'veth0' }));
      expect(err).toMatchObject({ code: 'EOPNOTSUPP', op: 'link set br0 (master)' });
      // This kernel has no 8021q: a VLAN on a real parent fails in the kernel, with its ext-ACK.
      err = await untouched(h, ns, () => h.links.add({ name: 'br0.10', kind: 'vlan', parent: 'br0', id: 10 }));
      expect(err).toMatchObject({ code: 'EOPNOTSUPP', op: 'link add br0.10 (vlan)', extack: 'Unknown device type' });
    });
  });

  it('invalid input is refused before the kernel is touched: names over 15 bytes, VLAN ids 0 and 4095, and more', async () => {
    await withHandle(async (h, ns) => {
      await h.links.add({ name: 'br0', kind: 'bridge' });
      const next = (await h.links.list()).reduce((m, l) => Math.max(m, l.index), 0) + 1;
      const cases: Array<[() => Promise<unknown>, string, string]> = [
        [() => h.links.add({ name: 'abcdefghijklmnop', kind: 'bridge' }), 'link add abcdefghijklmnop', 'name'],
        [() => h.links.add({ name: 'v0', kind: 'vlan', parent: 'br0', id: 0 }), 'link add v0', 'vlan.id'],
        [() => h.links.add({ name: 'v0', kind: 'vlan', parent: 'br0', id: 4095 }), 'link add v0', 'vlan.id'],
        [() => h.links.add({ name: 'v0', kind: 'vlan', parent: 'br0', id: 1.5 }), 'link add v0', 'vlan.id'],
        [() => h.links.add({ name: 'veth0', kind: 'veth', peer: 'a-very-long-peer' }), 'link add veth0', 'veth.peer'],
        [() => h.links.add({ name: 'br1', kind: 'bridge', master: 'a-very-long-name' }), 'link add br1', 'master'],
        [() => h.links.add({ name: 'vx0', kind: 'vxlan', vni: 1 << 24 }), 'link add vx0', 'vxlan.vni'],
        [() => h.links.add({ name: 'vx0', kind: 'vxlan', vni: 5, remote: '10.0.0.300' }), 'link add vx0', 'vxlan.remote'],
        [() => h.links.add({ name: 'mv0', kind: 'macvlan', parent: 'br0', mode: 'nope' as never }), 'link add mv0', 'macvlan.mode'],
        [() => h.links.add({ name: 'br1', kind: 'bridge', address: '02:00:00:00:00' }), 'link add br1', 'address'],
        [() => h.links.add({ name: 'br1', kind: 'bridge', forwardDelay: 31 }), 'link add br1', 'bridge.forwardDelay'],
        [() => h.links.set('br0', { mtu: 67 }), 'link set br0', 'mtu'],
        [() => h.links.set('br0', { name: 'abcdefghijklmnop' }), 'link set br0', 'name'],
        [() => h.links.set('abcdefghijklmnop', { up: true }), 'link set abcdefghijklmnop', 'link'],
        [() => h.links.delete('abcdefghijklmnop'), 'link delete abcdefghijklmnop', 'link'],
        [() => h.links.deleteGroup(0), 'link delete group 0', 'group'],
        [() => h.addresses.add({ dev: 'br0', address: '10.0.0.1/33' }), 'address add 10.0.0.1/33', 'address'],
        [() => h.addresses.add({ dev: 'br0', address: 'fd00::1/64', broadcast: 'fd00::ff' }), 'address add fd00::1/64', 'broadcast'],
        [() => h.routes.add({ dst: '10.9.0.0/16' }), 'route add 10.9.0.0/16', 'gateway'],
        [() => h.routes.add({ dst: '10.9.0.0/16', gateway: 'fd00::1' }), 'route add 10.9.0.0/16', 'gateway'],
        [() => h.taps.create(['tap0', 'abcdefghijklmnop']), 'tap create tap0 abcdefghijklmnop', 'taps[1]'],
      ];
      for (const [fn, op, field] of cases) {
        const err = await untouched(h, ns, fn);
        expect(err, `${op} ${field}`).toBeInstanceOf(ValidationError);
        expect(err, `${op} ${field}`).toMatchObject({ code: 'EINVAL', op, field });
        expect(err.message.startsWith(`${op}: invalid ${field} `), err.message).toBe(true);
        expect(isInvalid(err)).toBe(true);
      }
      await expectNextIndex(h, next);
    });
  });

  it('a tap whose name is taken fails with EEXIST and leaves the existing device alone', async () => {
    await withHandle(async (h, ns) => {
      await h.links.add({ name: 'br0', kind: 'bridge' });
      const err = await untouched(h, ns, () => h.taps.create('br0'));
      expect(err).toMatchObject({ code: 'EEXIST' });
      expect(err.message).toContain('tap create br0');
      expect((await h.links.get('br0'))!.kind).toBe('bridge');
    });
  });
});
