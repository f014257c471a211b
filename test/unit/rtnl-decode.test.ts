// Decoders on captured dumps: raw RTM_GETLINK / RTM_GETADDR / RTM_GETROUTE
// replies from a namespace prepared with `ip`, captured by
// test/fixtures/rtnl/capture-dumps.mjs (the setup commands are in each
// fixture's header). Each decoded object is checked against concrete values
// and against `ip -j` output of the same namespace, captured at the same time
// (*.ip.json), as an independent reading. No root needed.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { NLMSG_DONE } from '../../src/netlink/constants.js';
import { splitMessages } from '../../src/netlink/reader.js';
import { decodeAddress, type Address } from '../../src/rtnl/address.js';
import { RTM_NEWADDR, RTM_NEWLINK, RTM_NEWROUTE } from '../../src/rtnl/constants.js';
import { decodeLink, type Link } from '../../src/rtnl/link.js';
import { decodeRoute, type Route } from '../../src/rtnl/route.js';

const dir = join(dirname(fileURLToPath(import.meta.url)), '../fixtures/rtnl');

function messages(name: string) {
  const hex = readFileSync(join(dir, `${name}.hex`), 'utf8')
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .join('');
  return splitMessages(Buffer.from(hex, 'hex'));
}
const ipJson = (name: string): any[] => JSON.parse(readFileSync(join(dir, `${name}.ip.json`), 'utf8'));

describe('captured dumps are complete', () => {
  for (const name of ['dump-link', 'dump-addr', 'dump-route4', 'dump-route6']) {
    it(`${name} ends with NLMSG_DONE and every other message is multipart`, () => {
      const msgs = messages(name);
      expect(msgs.at(-1)!.type).toBe(NLMSG_DONE);
      for (const m of msgs) expect(m.flags & 0x2 /* NLM_F_MULTI */).toBe(0x2);
    });
  }
});

describe('decodeLink on an RTM_GETLINK dump', () => {
  const links: Link[] = messages('dump-link')
    .filter((m) => m.type === RTM_NEWLINK)
    .map(decodeLink);
  const by = (name: string) => {
    const l = links.find((x) => x.name === name);
    if (!l) throw new Error(`no link ${name} in the dump`);
    return l;
  };
  const idx = (name: string) => by(name).index;

  it('has every link, in ifindex order', () => {
    expect(links.map((l) => l.name)).toEqual(['lo', 'br0', 'veth1', 'veth0', 'vethx', 'vx42', 'mv0', 'tap0']);
    expect(links.map((l) => l.index)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('loopback', () => {
    expect(by('lo')).toMatchObject({ index: 1, up: true, mtu: 65536, group: 0, address: '00:00:00:00:00:00' });
    expect(by('lo').kind).toBeUndefined();
  });

  it('bridge: stp, timers, group, alias, MAC, up', () => {
    const br = by('br0');
    expect(br).toMatchObject({
      kind: 'bridge',
      up: true,
      group: 5,
      alias: 'eucabr10',
      address: '02:00:00:00:00:01',
      bridge: { stp: false, forwardDelay: 2, helloTime: 1 },
    });
    // The bridge took its MTU from its ports (1500), not the 1400 it was created with.
    expect(br.mtu).toBe(1500);
    expect(br.master).toBeUndefined();
  });

  it('veth: the peer as IFLA_LINK, the master, up/down', () => {
    expect(by('veth0')).toMatchObject({ kind: 'veth', master: idx('br0'), parent: idx('veth1'), up: true });
    expect(by('veth1')).toMatchObject({ kind: 'veth', parent: idx('veth0'), up: false });
    expect(by('veth1').master).toBeUndefined();
  });

  it('veth whose peer is in another namespace: IFLA_LINK_NETNSID', () => {
    const v = by('vethx');
    expect(v.kind).toBe('veth');
    expect(v.linkNetnsId).toBe(0);
    expect(v.parent).toBe(2); // the peer's ifindex over there
  });

  it('vxlan: vni, remote, local, port, device, ttl, learning', () => {
    expect(by('vx42')).toMatchObject({
      kind: 'vxlan',
      vxlan: { vni: 42, remote: '192.168.7.2', local: '192.168.7.1', port: 4789, device: idx('br0'), ttl: 64, learning: true },
    });
  });

  it('macvlan: mode and parent', () => {
    expect(by('mv0')).toMatchObject({ kind: 'macvlan', parent: idx('br0'), macvlan: { mode: 'private' } });
  });

  it('tap (kind "tun"): master and group', () => {
    expect(by('tap0')).toMatchObject({ kind: 'tun', master: idx('br0'), group: 9, up: false });
  });

  it('agrees with `ip -j -d link show` on every link', () => {
    const ip = ipJson('dump-link');
    expect(links.length).toBe(ip.length);
    const nameOf = new Map(ip.map((l) => [l.ifname as string, l.ifindex as number]));
    for (const l of links) {
      const o = ip.find((x) => x.ifindex === l.index);
      expect(o, l.name).toBeDefined();
      expect(l.name).toBe(o.ifname);
      expect(l.mtu).toBe(o.mtu);
      expect(l.address).toBe(o.address);
      expect(l.group).toBe(o.group === 'default' ? 0 : Number(o.group));
      expect(l.up).toBe(o.flags.includes('UP'));
      expect(l.operstate.toUpperCase()).toBe(o.operstate);
      expect(l.txqlen).toBe(o.txqlen);
      expect(l.alias).toBe(o.ifalias);
      expect(l.kind).toBe(o.linkinfo?.info_kind);
      expect(l.master).toBe(o.master === undefined ? undefined : nameOf.get(o.master));
      if (o.link !== undefined) expect(l.parent).toBe(nameOf.get(o.link));
      if (o.link_index !== undefined) expect(l.parent).toBe(o.link_index);
      expect(l.linkNetnsId).toBe(o.link_netnsid);
      const d = o.linkinfo?.info_data;
      if (l.kind === 'bridge') {
        expect(l.bridge).toEqual({
          stp: d.stp_state !== 0,
          forwardDelay: d.forward_delay / 100,
          helloTime: d.hello_time / 100,
          multicastSnooping: d.mcast_snooping !== 0,
        });
      }
      if (l.kind === 'vxlan') {
        expect(l.vxlan).toMatchObject({ vni: d.id, remote: d.remote, local: d.local, port: d.port, ttl: d.ttl, learning: d.learning });
        expect(l.vxlan!.device).toBe(nameOf.get(d.link));
      }
      if (l.kind === 'macvlan') expect(l.macvlan!.mode).toBe(d.mode);
    }
  });
});

describe('decodeAddress on an RTM_GETADDR dump', () => {
  const addrs: Address[] = messages('dump-addr')
    .filter((m) => m.type === RTM_NEWADDR)
    .map(decodeAddress);
  const find = (address: string) => addrs.find((a) => a.address === address);

  it('IPv4 with broadcast and the kernel-given label', () => {
    expect(find('10.1.2.1')).toMatchObject({ index: 2, family: 4, prefix: 24, broadcast: '10.1.2.255', label: 'br0', scope: 'global' });
  });
  it('IPv4 /32 with a label', () => {
    const a = find('192.168.32.200')!;
    expect(a).toMatchObject({ index: 2, family: 4, prefix: 32, label: 'br0:pub', scope: 'global' });
    expect(a.broadcast).toBeUndefined();
  });
  it('IPv6 global (nodad) and link-local', () => {
    expect(find('fd00::1')).toMatchObject({ index: 2, family: 6, prefix: 64, scope: 'global' });
    expect(find('fd00::1')!.flags & 0x02 /* IFA_F_NODAD */).toBe(0x02);
    expect(find('fe80::ff:fe00:1')).toMatchObject({ index: 2, family: 6, prefix: 64, scope: 'link' });
  });
  it('loopback', () => {
    expect(find('127.0.0.1')).toMatchObject({ index: 1, family: 4, prefix: 8, scope: 'host', label: 'lo' });
    expect(find('::1')).toMatchObject({ index: 1, family: 6, prefix: 128, scope: 'host' });
  });
  it('agrees with `ip -j addr show`', () => {
    const expected = ipJson('dump-addr').flatMap((l) =>
      l.addr_info.map((x: any) => ({
        index: l.ifindex,
        family: x.family === 'inet' ? 4 : 6,
        address: x.local,
        prefix: x.prefixlen,
        scope: x.scope,
        broadcast: x.broadcast,
        label: x.label,
      })),
    );
    const got = addrs.map((a) => ({
      index: a.index,
      family: a.family,
      address: a.address,
      prefix: a.prefix,
      scope: a.scope,
      broadcast: a.broadcast,
      label: a.label,
    }));
    const key = (a: { index: number; address: string }) => `${a.index} ${a.address}`;
    expect(got.sort((a, b) => key(a).localeCompare(key(b)))).toEqual(expected.sort((a, b) => key(a).localeCompare(key(b))));
  });
});

describe('decodeRoute on RTM_GETROUTE dumps', () => {
  const decode = (name: string): Route[] =>
    messages(name)
      .filter((m) => m.type === RTM_NEWROUTE)
      .map(decodeRoute);
  const v4 = decode('dump-route4');
  const v6 = decode('dump-route6');

  it('default route via a gateway, protocol boot, main table', () => {
    expect(v4.find((r) => r.dst === 'default')).toMatchObject({ family: 4, gateway: '10.1.2.254', oif: 2, table: 254, protocol: 3, scope: 'global', type: 1 });
  });
  it('route with a gateway and a metric', () => {
    expect(v4.find((r) => r.dst === '10.9.0.0/16')).toMatchObject({ gateway: '10.1.2.253', oif: 2, metric: 50, table: 254 });
  });
  it('device route in table 100, scope link', () => {
    const r = v4.find((x) => x.dst === '10.8.0.0/16')!;
    expect(r).toMatchObject({ oif: 2, table: 100, scope: 'link' });
    expect(r.gateway).toBeUndefined();
  });
  it('the kernel-made prefix route with its preferred source', () => {
    expect(v4.find((r) => r.dst === '10.1.2.0/24')).toMatchObject({ table: 254, protocol: 2, scope: 'link', src: '10.1.2.1' });
  });
  it('local-table routes (local, broadcast)', () => {
    expect(v4.find((r) => r.dst === '10.1.2.1/32')).toMatchObject({ table: 255, type: 2 /* RTN_LOCAL */, scope: 'host' });
    expect(v4.find((r) => r.dst === '10.1.2.255/32')).toMatchObject({ table: 255, type: 3 /* RTN_BROADCAST */, scope: 'link' });
  });
  it('IPv6 route via a gateway', () => {
    expect(v6.find((r) => r.dst === 'fd01::/64')).toMatchObject({ family: 6, gateway: 'fd00::fe', oif: 2, metric: 1024, table: 254 });
  });

  it('agrees with `ip -j route show table all` (destination, table, gateway, device, metric)', () => {
    const TABLES: Record<string, number> = { local: 255, main: 254, default: 253 };
    for (const [routes, name, family] of [
      [v4, 'dump-route4', 4],
      [v6, 'dump-route6', 6],
    ] as const) {
      const ip = ipJson(name);
      const norm = (r: { dst: string }) => (r.dst === 'default' ? 'default' : r.dst.includes('/') ? r.dst : `${r.dst}/${family === 4 ? 32 : 128}`);
      const expected = ip
        .map((r) => ({
          dst: norm(r),
          table: r.table === undefined ? 254 : (TABLES[r.table] ?? Number(r.table)),
          gateway: r.gateway,
          oif: r.dev === 'lo' ? 1 : 2,
          metric: r.metric,
        }))
        .sort((a, b) => `${a.table} ${a.dst}`.localeCompare(`${b.table} ${b.dst}`));
      const got = routes
        .map((r) => ({ dst: r.dst, table: r.table, gateway: r.gateway, oif: r.oif, metric: family === 4 && r.metric === undefined ? undefined : r.metric }))
        .sort((a, b) => `${a.table} ${a.dst}`.localeCompare(`${b.table} ${b.dst}`));
      // ip hides v4 metric 0 (absent); IPv6 always has one.
      expect(got).toEqual(expected);
    }
  });
});
