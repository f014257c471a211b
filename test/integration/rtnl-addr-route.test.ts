// Addresses and routes against the real kernel, read back with the library
// (h.addresses.list, h.routes.list) and with `ip -j addr` / `ip -j route` as the
// independent oracle. A fresh namespace per test, removed even on failure.
// Needs root; skipped otherwise.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { isRoot, withHandle } from '../helpers/netns.js';

if (!isRoot) console.warn('test/integration/rtnl-addr-route.test.ts: skipped, needs root (network namespaces)');

const ipj = (ns: string, ...args: string[]): any[] => JSON.parse(execFileSync('ip', ['-n', ns, '-j', ...args], { encoding: 'utf8' }));

/** `ip -j addr show dev DEV` as {address, prefix, family, scope, broadcast, label}, in code-point order as h.addresses.list() sorts. */
function ipAddrs(ns: string, dev: string) {
  const [link] = ipj(ns, 'addr', 'show', 'dev', dev);
  return (link.addr_info as any[])
    .map((a) => ({ address: a.local, prefix: a.prefixlen, family: a.family === 'inet' ? 4 : 6, scope: a.scope, broadcast: a.broadcast, label: a.label }))
    .sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
}

describe.skipIf(!isRoot)('addresses (root)', () => {
  it('IPv4 and IPv6: add with broadcast, label and scope; list; delete', async () => {
    await withHandle(async (h, ns) => {
      await h.links.add({ name: 'br0', kind: 'bridge', up: true });
      const br = (await h.links.get('br0'))!;
      await h.addresses.add({ dev: 'br0', address: '10.1.2.1/24', broadcast: true });
      await h.addresses.add({ dev: 'br0', address: '192.168.32.200/32', label: 'br0:pub' });
      await h.addresses.add({ dev: br.index, address: '10.3.0.1/16', broadcast: '10.3.255.255', scope: 'link' });
      await h.addresses.add({ dev: 'br0', address: 'fd00::1/64' });
      await h.addresses.add({ dev: 'br0', address: 'fd00:1::1/128', scope: 'site' });

      const mine = (await h.addresses.list({ dev: 'br0' })).filter((a) => !a.address.startsWith('fe80:'));
      expect(mine.map((a) => ({ address: a.address, prefix: a.prefix, family: a.family, scope: a.scope, broadcast: a.broadcast, label: a.label }))).toEqual([
        { address: '10.1.2.1', prefix: 24, family: 4, scope: 'global', broadcast: '10.1.2.255', label: 'br0' },
        { address: '10.3.0.1', prefix: 16, family: 4, scope: 'link', broadcast: '10.3.255.255', label: 'br0' },
        { address: '192.168.32.200', prefix: 32, family: 4, scope: 'global', broadcast: undefined, label: 'br0:pub' },
        { address: 'fd00::1', prefix: 64, family: 6, scope: 'global', broadcast: undefined, label: undefined },
        // The kernel derives an IPv6 address's scope from the address itself and ignores ifa_scope (ip too).
        { address: 'fd00:1::1', prefix: 128, family: 6, scope: 'global', broadcast: undefined, label: undefined },
      ]);
      for (const a of mine) expect(a.index).toBe(br.index);

      // The oracle agrees on every address of the link, link-local included.
      const all = await h.addresses.list({ dev: 'br0' });
      expect(
        all
          .map((a) => ({ address: a.address, prefix: a.prefix, family: a.family, scope: a.scope, broadcast: a.broadcast, label: a.label }))
          .sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0)),
      ).toEqual(ipAddrs(ns, 'br0'));

      // Family filter.
      expect((await h.addresses.list({ dev: 'br0', family: 4 })).map((a) => a.address)).toEqual(['10.1.2.1', '10.3.0.1', '192.168.32.200']);
      expect((await h.addresses.list({ family: 6 })).every((a) => a.family === 6)).toBe(true);
      // Unfiltered: lo's too (it has 127.0.0.1 once it is up).
      await h.links.set('lo', { up: true });
      expect((await h.addresses.list()).some((a) => a.address === '127.0.0.1' && a.index === 1)).toBe(true);

      await h.addresses.delete({ dev: 'br0', address: '10.1.2.1/24' });
      await h.addresses.delete({ dev: 'br0', address: 'fd00::1/64' });
      await h.addresses.delete({ dev: 'br0', address: '192.168.32.200/32' });
      const left = (await h.addresses.list({ dev: 'br0' })).map((a) => a.address).filter((a) => !a.startsWith('fe80:'));
      expect(left).toEqual(['10.3.0.1', 'fd00:1::1']);
      expect(
        ipAddrs(ns, 'br0')
          .map((a) => a.address)
          .filter((a: string) => !a.startsWith('fe80:'))
          .sort(),
      ).toEqual(['10.3.0.1', 'fd00:1::1']);
    });
  });

  it('one address each on 50 veths, pipelined through the connection', async () => {
    await withHandle(async (h, ns) => {
      for (let i = 0; i < 50; i++) await h.links.add({ name: `v${i}`, kind: 'veth', peer: `p${i}` });
      for (let i = 0; i < 50; i++) await h.addresses.add({ dev: `v${i}`, address: `10.7.${i}.1/24` });
      const got = (await h.addresses.list({ family: 4 })).filter((a) => a.address.startsWith('10.7.'));
      expect(got).toHaveLength(50);
      const ip = ipj(ns, '-4', 'addr', 'show').flatMap((l) => l.addr_info.map((a: any) => `${l.ifname} ${a.local}/${a.prefixlen}`));
      for (let i = 0; i < 50; i++) expect(ip).toContain(`v${i} 10.7.${i}.1/24`);
    });
  });
});

describe.skipIf(!isRoot)('routes (root)', () => {
  it('default, dst dev, via dev, tables 100 and 1000, metric and src, IPv6; list; delete', async () => {
    await withHandle(async (h, ns) => {
      await h.links.add({ name: 'br0', kind: 'bridge', up: true });
      const br = (await h.links.get('br0'))!;
      await h.addresses.add({ dev: 'br0', address: '10.1.2.1/24' });
      await h.addresses.add({ dev: 'br0', address: 'fd00::1/64' });
      // IPv6 duplicate address detection keeps fd00::1 tentative for a while; a
      // gateway route does not care.

      await h.routes.add({ dst: 'default', gateway: '10.1.2.254' });
      await h.routes.add({ dst: '10.9.0.0/16', dev: 'br0' });
      await h.routes.add({ dst: '10.10.0.0/16', gateway: '10.1.2.253', dev: 'br0', metric: 50, src: '10.1.2.1' });
      await h.routes.add({ dst: '10.8.0.0/16', gateway: '10.1.2.254', dev: 'br0', table: 100 });
      await h.routes.add({ dst: '10.11.0.0/16', dev: 'br0', table: 1000 });
      await h.routes.add({ dst: 'fd01::/64', gateway: 'fd00::fe', dev: 'br0' });

      const main = await h.routes.list();
      const pick = (dst: string) => main.find((r) => r.dst === dst);
      expect(pick('default')).toMatchObject({ gateway: '10.1.2.254', oif: br.index, table: 254, protocol: 3, scope: 'global' });
      expect(pick('10.9.0.0/16')).toMatchObject({ oif: br.index, scope: 'link', table: 254 });
      expect(pick('10.10.0.0/16')).toMatchObject({ gateway: '10.1.2.253', metric: 50, src: '10.1.2.1', oif: br.index });
      expect(pick('10.1.2.0/24')).toMatchObject({ protocol: 2 /* kernel */, scope: 'link', src: '10.1.2.1' });
      expect((await h.routes.list({ table: 100 })).map((r) => [r.dst, r.gateway, r.table])).toEqual([['10.8.0.0/16', '10.1.2.254', 100]]);
      expect((await h.routes.list({ table: 1000 })).map((r) => [r.dst, r.table, r.scope])).toEqual([['10.11.0.0/16', 1000, 'link']]);
      expect((await h.routes.list({ family: 6 })).find((r) => r.dst === 'fd01::/64')).toMatchObject({ family: 6, gateway: 'fd00::fe', oif: br.index });

      // The oracle: ip's main table, route for route.
      const fromIp = ipj(ns, '-4', 'route', 'show', 'table', 'main')
        .map((r) => ({ dst: r.dst === 'default' || r.dst.includes('/') ? r.dst : `${r.dst}/32`, gateway: r.gateway, metric: r.metric, src: r.prefsrc }))
        .sort((a, b) => a.dst.localeCompare(b.dst));
      expect(main.map((r) => ({ dst: r.dst, gateway: r.gateway, metric: r.metric, src: r.src })).sort((a, b) => a.dst.localeCompare(b.dst))).toEqual(fromIp);
      expect(ipj(ns, 'route', 'show', 'table', '100')).toMatchObject([{ dst: '10.8.0.0/16', gateway: '10.1.2.254', dev: 'br0' }]);
      expect(ipj(ns, 'route', 'show', 'table', '1000')).toMatchObject([{ dst: '10.11.0.0/16', dev: 'br0', scope: 'link' }]);
      expect(ipj(ns, '-6', 'route', 'show').find((r) => r.dst === 'fd01::/64')).toMatchObject({ gateway: 'fd00::fe', dev: 'br0' });

      // Everything in all tables, and deletes.
      expect((await h.routes.list({ table: 'all' })).some((r) => r.table === 255)).toBe(true);
      // A protocol filter is applied by the kernel: only the proto-240 route, from every table.
      await h.routes.add({ dst: '10.12.0.0/16', dev: 'br0', table: 100, protocol: 240 });
      expect((await h.routes.list({ table: 'all', protocol: 240 })).map((r) => [r.dst, r.table, r.protocol])).toEqual([['10.12.0.0/16', 100, 240]]);
      expect(ipj(ns, 'route', 'show', 'table', 'all', 'proto', '240').map((r) => r.dst)).toEqual(['10.12.0.0/16']);
      await h.routes.delete({ dst: '10.12.0.0/16', table: 100, dev: 'br0' });
      await h.routes.delete({ dst: 'default', gateway: '10.1.2.254' });
      await h.routes.delete({ dst: '10.9.0.0/16', dev: 'br0' });
      await h.routes.delete({ dst: '10.8.0.0/16', table: 100, dev: 'br0' });
      await h.routes.delete({ dst: '10.11.0.0/16', table: 1000, dev: 'br0' });
      await h.routes.delete({ dst: 'fd01::/64', gateway: 'fd00::fe' });
      expect((await h.routes.list()).map((r) => r.dst).sort()).toEqual(['10.1.2.0/24', '10.10.0.0/16']);
      expect(
        ipj(ns, '-4', 'route', 'show')
          .map((r) => r.dst)
          .sort(),
      ).toEqual(['10.1.2.0/24', '10.10.0.0/16']);
      expect(ipj(ns, 'route', 'show', 'table', '100')).toEqual([]);
      expect(ipj(ns, 'route', 'show', 'table', '1000')).toEqual([]);
      expect(ipj(ns, '-6', 'route', 'show').some((r) => r.dst === 'fd01::/64')).toBe(false);
    });
  });
});
