// VLAN links against a VLAN-capable kernel (the VLAN lane: natively when the
// kernel has 8021q, otherwise inside the qemu VM). Links are created, changed
// and deleted through the library on a veth parent, and every result is read
// back twice: with the library (h.links.get/list) and with `ip -j -d link show`
// as the independent oracle. Each test runs in its own namespace.
// Skipped with a message where the kernel has no 8021q, except under
// EUCANET_REQUIRE_VLAN=1 (set by test/vm/vlan-lane.sh), where that fails.
import { expect, it } from 'vitest';
import type { Handle } from '../../src/handle.js';
import { isNotFound, NetlinkError, ValidationError } from '../../src/errors.js';
import type { Link } from '../../src/rtnl/link.js';
import { describeVlan, ipIn, ipLinks, rejection, withHandle } from './support.js';

const FILE = 'test/vlan/vlan-links.test.ts';

async function get(h: Handle, name: string): Promise<Link> {
  const l = await h.links.get(name);
  if (!l) throw new Error(`link ${name} not found`);
  return l;
}

/** The parent every test hangs its VLANs on: eth0, one end of a veth pair. */
async function parent(h: Handle, up = true): Promise<Link> {
  await h.links.add({ name: 'eth0', kind: 'veth', peer: 'peer0', up });
  if (up) await h.links.set('peer0', { up: true });
  return get(h, 'eth0');
}

/**
 * Both views of the namespace's links, to show a failed call changed nothing.
 * (Error tests keep the parent down: a carrier coming up changes operstate
 * asynchronously, which would make two snapshots differ for no fault.)
 */
async function snapshot(h: Handle, ns: string): Promise<{ ip: string; lib: string }> {
  return { ip: ipIn(ns, '-j', '-d', 'link', 'show'), lib: JSON.stringify(await h.links.list()) };
}

describeVlan(FILE, 'VLAN links (root, 8021q, a fresh namespace per test)', () => {
  it('802.1Q: eth0.10 and eth0.11 on a veth parent, read back by the library and by ip -j -d', async () => {
    await withHandle(async (h, ns) => {
      const eth0 = await parent(h);
      await h.links.add({ name: 'eth0.10', kind: 'vlan', parent: 'eth0', id: 10, protocol: '802.1Q', up: true, mtu: 1400 });
      // No protocol given: the kernel's default, 802.1Q. Parent by ifindex.
      await h.links.add({ name: 'eth0.11', kind: 'vlan', parent: eth0.index, id: 11 });

      const v10 = await get(h, 'eth0.10');
      const v11 = await get(h, 'eth0.11');
      expect(v10).toMatchObject({ kind: 'vlan', parent: eth0.index, mtu: 1400, up: true, vlan: { id: 10, protocol: '802.1Q' } });
      expect(v11).toMatchObject({ kind: 'vlan', parent: eth0.index, mtu: 1500, up: false, vlan: { id: 11, protocol: '802.1Q' } });
      // A VLAN device takes its parent's MAC address.
      expect(v10.address).toBe(eth0.address);

      const ip = ipLinks(ns);
      for (const [name, id, l] of [
        ['eth0.10', 10, v10],
        ['eth0.11', 11, v11],
      ] as const) {
        const o = ip.get(name);
        expect(o, name).toBeDefined();
        expect(o.ifindex).toBe(l.index);
        expect(o.link).toBe('eth0');
        expect(o.linkinfo.info_kind).toBe('vlan');
        expect(o.linkinfo.info_data).toMatchObject({ protocol: '802.1Q', id });
        expect(o.mtu).toBe(l.mtu);
        expect(o.address).toBe(eth0.address);
      }
      expect(ip.get('eth0.10').flags).toContain('UP');
      expect(ip.get('eth0.11').flags).not.toContain('UP');

      // A dump sees them as well, with the same decoded fields as the kernel-side get.
      const listed = (await h.links.list()).filter((l) => l.kind === 'vlan');
      expect(listed.map((l) => [l.name, l.vlan?.id, l.vlan?.protocol, l.parent])).toEqual([
        ['eth0.10', 10, '802.1Q', eth0.index],
        ['eth0.11', 11, '802.1Q', eth0.index],
      ]);
    });
  });

  it('802.1ad outer tag with an 802.1Q device on top (QinQ)', async () => {
    await withHandle(async (h, ns) => {
      const eth0 = await parent(h);
      await h.links.add({ name: 'eth0.100', kind: 'vlan', parent: 'eth0', id: 100, protocol: '802.1ad', up: true });
      await h.links.add({ name: 'eth0.100.10', kind: 'vlan', parent: 'eth0.100', id: 10, protocol: '802.1Q', up: true });

      const outer = await get(h, 'eth0.100');
      const inner = await get(h, 'eth0.100.10');
      expect(outer).toMatchObject({ kind: 'vlan', parent: eth0.index, up: true, vlan: { id: 100, protocol: '802.1ad' } });
      expect(inner).toMatchObject({ kind: 'vlan', parent: outer.index, up: true, vlan: { id: 10, protocol: '802.1Q' } });

      const ip = ipLinks(ns);
      expect(ip.get('eth0.100')).toMatchObject({
        ifindex: outer.index,
        link: 'eth0',
        linkinfo: { info_kind: 'vlan', info_data: { protocol: '802.1ad', id: 100 } },
      });
      expect(ip.get('eth0.100.10')).toMatchObject({
        ifindex: inner.index,
        link: 'eth0.100',
        linkinfo: { info_kind: 'vlan', info_data: { protocol: '802.1Q', id: 10 } },
      });
      expect(ip.get('eth0.100.10').flags).toContain('UP');

      // The same id under another protocol on the same parent is a different device.
      await h.links.add({ name: 'eth0.q100', kind: 'vlan', parent: 'eth0', id: 100, protocol: '802.1Q' });
      expect(ipLinks(ns).get('eth0.q100').linkinfo.info_data).toMatchObject({ protocol: '802.1Q', id: 100 });
      expect((await get(h, 'eth0.q100')).vlan).toEqual({ id: 100, protocol: '802.1Q' });

      // Deleting the outer device takes the inner one with it.
      await h.links.delete('eth0.100');
      expect(await h.links.get('eth0.100')).toBeUndefined();
      expect(await h.links.get('eth0.100.10')).toBeUndefined();
      const left = ipLinks(ns);
      expect(left.has('eth0.100')).toBe(false);
      expect(left.has('eth0.100.10')).toBe(false);
      expect(left.has('eth0.q100')).toBe(true);
    });
  });

  it('changes: up/down, mtu, alias, master into a bridge and out, rename; then delete', async () => {
    await withHandle(async (h, ns) => {
      const eth0 = await parent(h);
      await h.links.add({ name: 'eucabr10', kind: 'bridge', stp: false, up: true });
      await h.links.add({ name: 'eth0.10', kind: 'vlan', parent: 'eth0', id: 10 });
      const index = (await get(h, 'eth0.10')).index;
      const br = await get(h, 'eucabr10');

      // up
      await h.links.set('eth0.10', { up: true });
      expect((await get(h, 'eth0.10')).up).toBe(true);
      expect(ipLinks(ns).get('eth0.10').flags).toContain('UP');

      // mtu, alias
      await h.links.set('eth0.10', { mtu: 1450, alias: 'group sg-web, vlan 10' });
      expect(await get(h, 'eth0.10')).toMatchObject({ mtu: 1450, alias: 'group sg-web, vlan 10' });
      expect(ipLinks(ns).get('eth0.10')).toMatchObject({ mtu: 1450, ifalias: 'group sg-web, vlan 10' });
      // Above the parent's MTU: the kernel refuses (ERANGE), naming the op; nothing changes.
      const err = await rejection(h.links.set('eth0.10', { mtu: 1600 }));
      expect(err).toBeInstanceOf(NetlinkError);
      expect(err).toMatchObject({ code: 'ERANGE' });
      expect(err.op).toMatch(/^link set eth0\.10/);
      expect(ipLinks(ns).get('eth0.10').mtu).toBe(1450);

      // master: a port of eucabr10, as on a node controller; then released.
      await h.links.set('eth0.10', { master: 'eucabr10' });
      expect((await get(h, 'eth0.10')).master).toBe(br.index);
      expect(ipLinks(ns).get('eth0.10').master).toBe('eucabr10');
      expect((await h.links.list({ master: br.index })).map((l) => l.name)).toEqual(['eth0.10']);
      await h.links.set('eth0.10', { master: null });
      expect((await get(h, 'eth0.10')).master).toBeUndefined();
      expect(ipLinks(ns).get('eth0.10').master).toBeUndefined();

      // down, then rename (the kernel renames only a device that is down).
      await h.links.set('eth0.10', { up: false });
      expect((await get(h, 'eth0.10')).up).toBe(false);
      expect(ipLinks(ns).get('eth0.10').flags).not.toContain('UP');
      await h.links.set('eth0.10', { name: 'vlan10' });
      expect(await h.links.get('eth0.10')).toBeUndefined();
      const renamed = await get(h, 'vlan10');
      expect(renamed).toMatchObject({ index, kind: 'vlan', parent: eth0.index, vlan: { id: 10, protocol: '802.1Q' }, mtu: 1450 });
      const o = ipLinks(ns);
      expect(o.has('eth0.10')).toBe(false);
      expect(o.get('vlan10')).toMatchObject({ ifindex: index, link: 'eth0', linkinfo: { info_data: { id: 10, protocol: '802.1Q' } } });

      // Created as a port, up, in one call (the node controller's shape).
      await h.links.add({ name: 'eth0.11', kind: 'vlan', parent: 'eth0', id: 11, master: 'eucabr10', up: true });
      expect(ipLinks(ns).get('eth0.11')).toMatchObject({ master: 'eucabr10', linkinfo: { info_data: { id: 11 } } });

      // delete one; deleting the parent takes the rest.
      await h.links.delete('vlan10');
      expect(await h.links.get('vlan10')).toBeUndefined();
      expect(ipLinks(ns).has('vlan10')).toBe(false);
      await h.links.delete('eth0');
      expect((await h.links.list()).filter((l) => l.kind === 'vlan')).toEqual([]);
      expect([...ipLinks(ns).values()].filter((l) => l.linkinfo?.info_kind === 'vlan')).toEqual([]);
    });
  });

  it('VLAN ids 0 and 4095 are refused before the kernel is touched, naming vlan.id', async () => {
    await withHandle(async (h, ns) => {
      await parent(h, false);
      const before = await snapshot(h, ns);
      for (const id of [0, 4095, -1, 4096, 10.5]) {
        const err = await rejection(h.links.add({ name: 'eth0.x', kind: 'vlan', parent: 'eth0', id }));
        expect(err, `id ${id}`).toBeInstanceOf(ValidationError);
        expect(err, `id ${id}`).toMatchObject({ code: 'EINVAL', field: 'vlan.id', value: id, op: 'link add eth0.x' });
        expect(err.message).toContain('vlan.id');
        expect(await snapshot(h, ns), `id ${id}`).toEqual(before);
      }
      const err = await rejection(h.links.add({ name: 'eth0.x', kind: 'vlan', parent: 'eth0', id: 10, protocol: '802.1X' as never }));
      expect(err).toMatchObject({ field: 'vlan.protocol', op: 'link add eth0.x' });
      expect(await snapshot(h, ns)).toEqual(before);
      // The bounds themselves are fine.
      await h.links.add({ name: 'eth0.1', kind: 'vlan', parent: 'eth0', id: 1 });
      await h.links.add({ name: 'eth0.4094', kind: 'vlan', parent: 'eth0', id: 4094 });
      const ip = ipLinks(ns);
      expect(ip.get('eth0.1').linkinfo.info_data.id).toBe(1);
      expect(ip.get('eth0.4094').linkinfo.info_data.id).toBe(4094);
    });
  });

  it('a duplicate VLAN id on the same parent: EEXIST from the kernel, naming the op', async () => {
    await withHandle(async (h, ns) => {
      await parent(h, false);
      await h.links.add({ name: 'eth0.10', kind: 'vlan', parent: 'eth0', id: 10 });
      const before = await snapshot(h, ns);
      let err = await rejection(h.links.add({ name: 'dup10', kind: 'vlan', parent: 'eth0', id: 10 }));
      expect(err).toBeInstanceOf(NetlinkError);
      expect(err).toMatchObject({ code: 'EEXIST', errno: 17, op: 'link add dup10 (vlan)' });
      expect(err.message).toContain('link add dup10');
      expect(await snapshot(h, ns)).toEqual(before);
      // The same name again: EEXIST as well.
      err = await rejection(h.links.add({ name: 'eth0.10', kind: 'vlan', parent: 'eth0', id: 12 }));
      expect(err).toMatchObject({ code: 'EEXIST', op: 'link add eth0.10 (vlan)' });
      expect(await snapshot(h, ns)).toEqual(before);
      // The same id on another parent is fine.
      await h.links.add({ name: 'peer0.10', kind: 'vlan', parent: 'peer0', id: 10 });
      expect(ipLinks(ns).get('peer0.10')).toMatchObject({ link: 'peer0', linkinfo: { info_data: { id: 10 } } });
    });
  });

  it('a parent that does not exist: ENODEV naming the parent', async () => {
    await withHandle(async (h, ns) => {
      await parent(h, false);
      const before = await snapshot(h, ns);
      let err = await rejection(h.links.add({ name: 'nope0.10', kind: 'vlan', parent: 'nope0', id: 10 }));
      expect(err).toBeInstanceOf(NetlinkError);
      expect(err).toMatchObject({ code: 'ENODEV', attribute: 'vlan.parent', extack: 'no link named "nope0"' });
      expect(err.op).toMatch(/^link add nope0\.10/);
      expect(err.message).toContain('nope0');
      expect(isNotFound(err)).toBe(true);
      expect(await snapshot(h, ns)).toEqual(before);
      // By an ifindex nobody has: the kernel's own ENODEV, for the op.
      err = await rejection(h.links.add({ name: 'x.10', kind: 'vlan', parent: 9999, id: 10 }));
      expect(err).toMatchObject({ code: 'ENODEV', op: 'link add x.10 (vlan)' });
      expect(await snapshot(h, ns)).toEqual(before);
    });
  });
});
