// Taps (through /dev/net/tun, inside the namespace) and sysctls (through
// /proc/sys opened inside the namespace), read back with the library and with
// `ip -j -d link` / `ip netns exec ... cat /proc/sys/...` as the oracle.
// A fresh namespace per test, removed even on failure. Needs root.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SystemCallError } from '../../src/native.js';
import { NetlinkError, ValidationError } from '../../src/errors.js';
import { readSysctl, writeSysctl } from '../../src/sys/sysctl.js';
import { ipLinks, isRoot, nsExec, withHandle } from '../helpers/netns.js';
import { rejection } from '../helpers/rejection.js';

if (!isRoot) console.warn('test/integration/rtnl-taps-sysctl.test.ts: skipped, needs root (network namespaces)');

/** The oracle's links by name. */
const linksByName = (ns: string): Map<string, any> => new Map(ipLinks(ns).map((l) => [l.ifname, l]));

describe.skipIf(!isRoot)('taps (root)', () => {
  it('creates persistent taps with owner, group, master, mtu and up; reads them back; deletes them', async () => {
    await withHandle(async (h, ns) => {
      await h.links.add({ name: 'br0', kind: 'bridge', stp: false, up: true });
      const br = (await h.links.get('br0'))!;
      const names = ['tap0', 'tap1', 'tap2'];
      await h.taps.create(names, { owner: 4242, ownerGroup: 4343, master: 'br0', up: true, mtu: 1400, group: 6 });

      const ip = linksByName(ns);
      for (const n of names) {
        const l = (await h.links.get(n))!;
        expect(l).toMatchObject({ kind: 'tun', master: br.index, up: true, mtu: 1400, group: 6 });
        const o = ip.get(n);
        expect(o.master).toBe('br0');
        expect(o.flags).toContain('UP');
        expect(o.mtu).toBe(1400);
        expect(o.group).toBe('6');
        expect(o.linkinfo.info_kind).toBe('tun');
        expect(o.linkinfo.info_data).toMatchObject({ type: 'tap', persist: true, pi: false });
        expect(String(o.linkinfo.info_data.user)).toBe('4242');
        expect(String(o.linkinfo.info_data.group)).toBe('4343');
      }
      expect((await h.links.list({ master: br.index })).map((l) => l.name)).toEqual(names);

      await h.taps.delete(names);
      for (const n of names) expect(await h.links.get(n)).toBeUndefined();
      expect([...linksByName(ns).keys()]).toEqual(['lo', 'br0']);
    });
  });

  it('tun mode, and a plain tap with no attributes', async () => {
    await withHandle(async (h, ns) => {
      await h.taps.create('tun0', { tun: true });
      await h.taps.create('tap0');
      const ip = linksByName(ns);
      expect(ip.get('tun0').linkinfo.info_data).toMatchObject({ type: 'tun', persist: true });
      expect(ip.get('tap0').linkinfo.info_data).toMatchObject({ type: 'tap', persist: true });
      expect((await h.links.get('tap0'))!.up).toBe(false);
      await h.taps.delete('tun0', { tun: true });
      await h.taps.delete('tap0');
      expect([...linksByName(ns).keys()]).toEqual(['lo']);
    });
  });

  it('all or none: a batch with a taken name leaves nothing behind', async () => {
    await withHandle(async (h, ns) => {
      await h.links.add({ name: 'br0', kind: 'bridge' });
      const err = await rejection(h.taps.create(['tapA', 'tapB', 'br0', 'tapC']));
      expect(err).toBeInstanceOf(SystemCallError);
      expect(err).toMatchObject({ code: 'EEXIST', index: 2, device: 'br0' });
      expect([...linksByName(ns).keys()]).toEqual(['lo', 'br0']);
    });
  });

  it('a name taken by another tap: refused (not attached to), and that tap is left alone', async () => {
    await withHandle(async (h, ns) => {
      await h.taps.create('tap0');
      const before = linksByName(ns).get('tap0').ifindex;
      const err = await rejection(h.taps.create(['tapX', 'tap0']));
      expect(err).toMatchObject({ code: 'EEXIST', index: 1, device: 'tap0' });
      // The rollback removed tapX only; tap0 is the same device as before.
      expect([...linksByName(ns).keys()]).toEqual(['lo', 'tap0']);
      expect(linksByName(ns).get('tap0').ifindex).toBe(before);
    });
  });

  it('a master that does not exist: the new taps are removed again and the error names the field', async () => {
    await withHandle(async (h, ns) => {
      const err = await rejection(h.taps.create(['tap0', 'tap1'], { master: 'nope0', up: true }));
      expect(err).toBeInstanceOf(NetlinkError);
      expect(err).toMatchObject({ code: 'ENODEV', attribute: 'master' });
      expect([...linksByName(ns).keys()]).toEqual(['lo']);
    });
  });

  it('deleting a tap that does not exist is ENODEV and creates nothing', async () => {
    await withHandle(async (h, ns) => {
      const err = await rejection(h.taps.delete('tap9'));
      expect(err).toBeInstanceOf(SystemCallError);
      expect(err).toMatchObject({ code: 'ENODEV', device: 'tap9' });
      expect([...linksByName(ns).keys()]).toEqual(['lo']);
    });
  });
});

describe.skipIf(!isRoot)('sysctl inside a namespace (root)', () => {
  it('net.ipv4.ip_forward: set in the namespace, seen there by ip netns exec, not on the host', async () => {
    const host = readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim();
    await withHandle(async (h, ns) => {
      expect(await h.sysctl.get('net.ipv4.ip_forward')).toBe('0');
      const target = host === '1' ? '0' : '1';
      await h.sysctl.set('net.ipv4.ip_forward', target);
      expect(await h.sysctl.get('net.ipv4.ip_forward')).toBe(target);
      expect(nsExec(ns, 'cat', ['/proc/sys/net/ipv4/ip_forward']).trim()).toBe(target);
      expect(readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim()).toBe(host);
      expect(readSysctl(undefined, 'net.ipv4.ip_forward')).toBe(host);

      // Per-device keys, in both spellings, through the free functions.
      await h.links.add({ name: 'br0', kind: 'bridge' });
      writeSysctl(ns, 'net/ipv4/conf/br0/rp_filter', 2);
      expect(readSysctl(ns, 'net.ipv4.conf.br0.rp_filter')).toBe('2');
      expect(nsExec(ns, 'cat', ['/proc/sys/net/ipv4/conf/br0/rp_filter']).trim()).toBe('2');
      await h.sysctl.set('net.ipv4.conf.br0.forwarding', 0);
      expect(await h.sysctl.get('net/ipv4/conf/br0/forwarding')).toBe('0');
    });
    expect(readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim()).toBe(host);
  });

  it('bad keys are refused up front; unknown ones are ENOENT', async () => {
    await withHandle(async (h) => {
      for (const bad of ['net..ipv4', '../etc/passwd', 'net/ipv4/../../x', '', 'net.ipv4.ip_forward\n']) {
        expect(await rejection(h.sysctl.get(bad)), JSON.stringify(bad)).toBeInstanceOf(ValidationError);
      }
      expect(await rejection(h.sysctl.set('net.ipv4.ip_forward', '1\n0'))).toBeInstanceOf(ValidationError);
      const err = await rejection(h.sysctl.get('net.ipv4.no_such_key'));
      expect(err).toBeInstanceOf(SystemCallError);
      expect(err.code).toBe('ENOENT');
    });
  });
});
