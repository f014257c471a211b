// Links against the real kernel: create, modify and delete every kind this
// kernel supports (bridge, veth, vxlan, macvlan, tap), each read back with the
// library (h.links.get / list) and with `ip -j -d link show` as an independent
// oracle. Every test runs in its own namespace, removed even on failure.
// Needs root; skipped otherwise. VLANs are not here: this kernel has no 8021q
// (their bytes are proved in test/unit/rtnl-encode.test.ts).
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { open, type Handle } from '../../src/handle.js';
import type { LinkRef } from '../../src/rtnl/kinds/index.js';
import type { Link } from '../../src/rtnl/link.js';
import { isRoot, withNetns, withHandle } from '../helpers/netns.js';

if (!isRoot) console.warn('test/integration/rtnl-links.test.ts: skipped, needs root (network namespaces)');

/** `ip -j -d link show` in the namespace: by name. */
function ipLinks(ns: string): Map<string, any> {
  const out = JSON.parse(execFileSync('ip', ['-n', ns, '-j', '-d', 'link', 'show'], { encoding: 'utf8' }));
  return new Map(out.map((l: any) => [l.ifname, l]));
}
const ipLink = (ns: string, name: string) => ipLinks(ns).get(name);

async function get(h: Handle, ref: LinkRef): Promise<Link> {
  const l = await h.links.get(ref);
  if (!l) throw new Error(`link ${ref} not found`);
  return l;
}

describe.skipIf(!isRoot)('links (root, a fresh namespace per test)', () => {
  it('bridge: create with stp/forward delay/hello time/multicast snooping, read back, change, delete', async () => {
    await withHandle(async (h, ns) => {
      await h.links.add({ name: 'br0', kind: 'bridge', stp: false, forwardDelay: 2, helloTime: 1, mtu: 1400, group: 5, alias: 'eucabr10', up: true });
      const l = await get(h, 'br0');
      expect(l).toMatchObject({
        name: 'br0',
        kind: 'bridge',
        mtu: 1400,
        group: 5,
        alias: 'eucabr10',
        up: true,
        // Multicast snooping: the kernel's default for a new bridge, on.
        bridge: { stp: false, forwardDelay: 2, helloTime: 1, multicastSnooping: true },
      });
      const o = ipLink(ns, 'br0');
      expect(o.linkinfo.info_kind).toBe('bridge');
      expect(o.linkinfo.info_data).toMatchObject({ stp_state: 0, forward_delay: 200, hello_time: 100, mcast_snooping: 1 });
      expect(o.mtu).toBe(1400);
      expect(o.group).toBe('5');
      expect(o.ifalias).toBe('eucabr10');
      expect(o.flags).toContain('UP');
      expect(o.ifindex).toBe(l.index);
      expect(o.address).toBe(l.address);

      // STP on: the kernel wants forward delay 2-30 s.
      await h.links.delete('br0');
      await h.links.add({ name: 'br0', kind: 'bridge', stp: true, forwardDelay: 4, helloTime: 2, multicastSnooping: false });
      expect((await get(h, 'br0')).bridge).toEqual({ stp: true, forwardDelay: 4, helloTime: 2, multicastSnooping: false });
      expect(ipLink(ns, 'br0').linkinfo.info_data).toMatchObject({ stp_state: 1, forward_delay: 400, hello_time: 200, mcast_snooping: 0 });

      await h.links.delete('br0');
      expect(await h.links.get('br0')).toBeUndefined();
      expect(ipLink(ns, 'br0')).toBeUndefined();
    });
  });

  it('link changes: up/down, mtu, name, MAC address, group, alias, master/nomaster', async () => {
    await withHandle(async (h, ns) => {
      await h.links.add({ name: 'br0', kind: 'bridge', stp: false });
      await h.links.add({ name: 'veth0', kind: 'veth', peer: 'veth1' });
      const index = (await get(h, 'veth0')).index;

      await h.links.set('veth0', { up: true, mtu: 1400, address: 'd0:0d:0a:01:02:02', group: 7, alias: 'i-1234' });
      let l = await get(h, 'veth0');
      expect(l).toMatchObject({ up: true, mtu: 1400, address: 'd0:0d:0a:01:02:02', group: 7, alias: 'i-1234' });
      let o = ipLink(ns, 'veth0');
      expect(o).toMatchObject({ mtu: 1400, address: 'd0:0d:0a:01:02:02', group: '7', ifalias: 'i-1234' });
      expect(o.flags).toContain('UP');

      await h.links.set('veth0', { master: 'br0' });
      const br = await get(h, 'br0');
      expect((await get(h, 'veth0')).master).toBe(br.index);
      expect(ipLink(ns, 'veth0').master).toBe('br0');
      expect((await h.links.list({ master: br.index })).map((x) => x.name)).toEqual(['veth0']);

      await h.links.set('veth0', { master: null, up: false, alias: '' });
      l = await get(h, 'veth0');
      expect(l.master).toBeUndefined();
      expect(l.up).toBe(false);
      expect(l.alias).toBeUndefined();
      o = ipLink(ns, 'veth0');
      expect(o.master).toBeUndefined();
      expect(o.flags).not.toContain('UP');
      expect(o.ifalias).toBeUndefined();

      await h.links.set('veth0', { name: 'veth9' });
      expect(await h.links.get('veth0')).toBeUndefined();
      expect((await get(h, 'veth9')).index).toBe(index);
      expect(ipLink(ns, 'veth9').ifindex).toBe(index);

      // By ifindex too.
      await h.links.set(index, { mtu: 1300 });
      expect((await get(h, index)).mtu).toBe(1300);
      expect(ipLink(ns, 'veth9').mtu).toBe(1300);
    });
  });

  it('veth: a pair, both ends seen by the library and by ip, deleting one end removes both', async () => {
    await withHandle(async (h, ns) => {
      await h.links.add({ name: 'veth0', kind: 'veth', peer: 'veth1', peerAddress: '02:00:00:00:00:11', address: '02:00:00:00:00:10' });
      const a = await get(h, 'veth0');
      const b = await get(h, 'veth1');
      expect(a).toMatchObject({ kind: 'veth', parent: b.index, address: '02:00:00:00:00:10' });
      expect(b).toMatchObject({ kind: 'veth', parent: a.index, address: '02:00:00:00:00:11' });
      const ip = ipLinks(ns);
      expect(ip.get('veth0').link).toBe('veth1');
      expect(ip.get('veth1').link).toBe('veth0');
      expect(ip.get('veth0').linkinfo.info_kind).toBe('veth');

      const names = (await h.links.list({ kind: 'veth' })).map((l) => l.name);
      // Sorted by ifindex: the peer is made first.
      expect(names).toEqual([b.index, a.index].sort((x, y) => x - y).map((i) => (i === a.index ? 'veth0' : 'veth1')));
      await h.links.delete('veth0');
      expect(await h.links.list({ kind: 'veth' })).toEqual([]);
      expect([...ipLinks(ns).keys()]).toEqual(['lo']);
    });
  });

  it('veth with the peer created in another namespace', async () => {
    await withHandle(async (h, ns) => {
      await withNetns(async (other) => {
        await h.links.add({ name: 'veth0', kind: 'veth', peer: 'peer0', peerNetns: other });
        const l = await get(h, 'veth0');
        expect(l.linkNetnsId).toBeGreaterThanOrEqual(0);
        expect(await h.links.get('peer0')).toBeUndefined();
        const h2 = open({ netns: other });
        try {
          const p = await get(h2, 'peer0');
          expect(p.kind).toBe('veth');
          expect(p.parent).toBe(l.index);
          expect(l.parent).toBe(p.index);
        } finally {
          h2.close();
        }
        expect(ipLink(other, 'peer0').linkinfo.info_kind).toBe('veth');
        expect(ipLink(ns, 'veth0').link_netnsid).toBe(l.linkNetnsId);
        expect(ipLink(ns, 'peer0')).toBeUndefined();
      });
      // The other namespace is gone, and with it the peer and so the pair (the
      // kernel tears a namespace down asynchronously, so wait for it).
      for (let i = 0; i < 100 && (await h.links.get('veth0')); i++) await new Promise((r) => setTimeout(r, 50));
      expect(await h.links.get('veth0')).toBeUndefined();
    });
  });

  it('vxlan: vni, local, remote, port, device; read back; delete', async () => {
    await withHandle(async (h, ns) => {
      await h.links.add({ name: 'br0', kind: 'bridge' });
      await h.addresses.add({ dev: 'br0', address: '192.168.7.1/24' });
      await h.links.add({ name: 'vx42', kind: 'vxlan', vni: 42, local: '192.168.7.1', remote: '192.168.7.2', port: 4790, device: 'br0', ttl: 16 });
      const br = await get(h, 'br0');
      const l = await get(h, 'vx42');
      expect(l).toMatchObject({ kind: 'vxlan', vxlan: { vni: 42, local: '192.168.7.1', remote: '192.168.7.2', port: 4790, device: br.index, ttl: 16 } });
      const d = ipLink(ns, 'vx42').linkinfo.info_data;
      expect(d).toMatchObject({ id: 42, local: '192.168.7.1', remote: '192.168.7.2', port: 4790, link: 'br0', ttl: 16 });

      // Defaults: port 4789 (IANA), not the kernel's 8472; a multicast group.
      await h.links.add({ name: 'vx7', kind: 'vxlan', vni: 7, multicastGroup: '239.1.1.7', device: 'br0', learning: false });
      expect((await get(h, 'vx7')).vxlan).toMatchObject({ vni: 7, multicastGroup: '239.1.1.7', port: 4789, learning: false });
      expect(ipLink(ns, 'vx7').linkinfo.info_data).toMatchObject({ id: 7, group: '239.1.1.7', port: 4789, learning: false });

      // Modify: mtu, up, group, MAC.
      await h.links.set('vx42', { mtu: 1400, up: true, group: 3, address: '02:00:00:00:42:42' });
      expect(await get(h, 'vx42')).toMatchObject({ mtu: 1400, up: true, group: 3, address: '02:00:00:00:42:42' });
      expect(ipLink(ns, 'vx42')).toMatchObject({ mtu: 1400, group: '3', address: '02:00:00:00:42:42' });

      await h.links.delete('vx42');
      await h.links.delete('vx7');
      expect(ipLink(ns, 'vx42')).toBeUndefined();
      expect(await h.links.list({ kind: 'vxlan' })).toEqual([]);
    });
  });

  it('macvlan: every mode on a parent; read back; delete', async () => {
    await withHandle(async (h, ns) => {
      await h.links.add({ name: 'veth0', kind: 'veth', peer: 'veth1' });
      const parent = await get(h, 'veth0');
      const modes = ['private', 'vepa', 'bridge', 'passthru', 'source'] as const;
      for (const mode of modes) {
        const name = `mv-${mode}`.slice(0, 15);
        // passthru takes the parent alone.
        if (mode === 'passthru') {
          await h.links.add({ name: 'veth2', kind: 'veth', peer: 'veth3' });
          await h.links.add({ name, kind: 'macvlan', parent: 'veth2', mode });
        } else {
          await h.links.add({ name, kind: 'macvlan', parent: 'veth0', mode });
          expect((await get(h, name)).parent).toBe(parent.index);
          expect(ipLink(ns, name).link).toBe('veth0');
        }
        expect((await get(h, name)).macvlan).toEqual({ mode });
        expect(ipLink(ns, name).linkinfo).toMatchObject({ info_kind: 'macvlan', info_data: { mode } });
      }
      // Default mode (none given) is the kernel's: vepa.
      await h.links.add({ name: 'mv-default', kind: 'macvlan', parent: 'veth0' });
      expect((await get(h, 'mv-default')).macvlan).toEqual({ mode: 'vepa' });
      // Modify: MAC, mtu, up, alias.
      await h.links.set('mv-default', { address: '02:00:00:00:77:01', mtu: 1300, up: true, alias: 'mv' });
      expect(await get(h, 'mv-default')).toMatchObject({ address: '02:00:00:00:77:01', mtu: 1300, up: true, alias: 'mv' });
      expect(ipLink(ns, 'mv-default')).toMatchObject({ address: '02:00:00:00:77:01', mtu: 1300, ifalias: 'mv' });

      for (const mode of modes) await h.links.delete(`mv-${mode}`.slice(0, 15));
      await h.links.delete('mv-default');
      expect(await h.links.list({ kind: 'macvlan' })).toEqual([]);
      expect([...ipLinks(ns).values()].filter((l) => l.linkinfo?.info_kind === 'macvlan')).toEqual([]);
    });
  });

  it('list: sorted by ifindex, filtered by kind and master in the kernel, and equal to ip', async () => {
    await withHandle(async (h, ns) => {
      await h.links.add({ name: 'br0', kind: 'bridge' });
      await h.links.add({ name: 'br1', kind: 'bridge' });
      await h.links.add({ name: 'veth0', kind: 'veth', peer: 'veth1', master: 'br0' });
      await h.links.add({ name: 'veth2', kind: 'veth', peer: 'veth3', master: 'br1' });
      await h.links.add({ name: 'mv0', kind: 'macvlan', parent: 'veth3', mode: 'bridge' });
      const all = await h.links.list();
      const ip = [...ipLinks(ns).values()];
      expect(all.map((l) => [l.index, l.name, l.kind, l.mtu, l.address, l.up])).toEqual(
        ip.sort((a, b) => a.ifindex - b.ifindex).map((o) => [o.ifindex, o.ifname, o.linkinfo?.info_kind, o.mtu, o.address, o.flags.includes('UP')]),
      );
      expect((await h.links.list({ kind: 'bridge' })).map((l) => l.name)).toEqual(['br0', 'br1']);
      const br1 = await get(h, 'br1');
      expect((await h.links.list({ master: br1.index })).map((l) => l.name)).toEqual(['veth2']);
      expect((await h.links.list({ kind: 'macvlan' })).map((l) => l.name)).toEqual(['mv0']);
    });
  });

  it('get by ifindex, and undefined for a link that does not exist', async () => {
    await withHandle(async (h) => {
      const lo = await h.links.get(1);
      expect(lo).toMatchObject({ index: 1, name: 'lo', mtu: 65536 });
      expect(await h.links.get('nope0')).toBeUndefined();
      expect(await h.links.get(99999)).toBeUndefined();
    });
  });
});
