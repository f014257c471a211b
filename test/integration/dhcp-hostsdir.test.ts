// DhcpServer.updateHosts against the real dnsmasq (root, dnsmasq, a DHCP
// client): hosts added go to dnsmasq's hosts directory and are served without
// a SIGHUP (the log shows no reload, the pid is the same, the client gets its
// lease); a removed host is forgotten by the reload that follows; an address
// given to a new MAC goes through a reload at once (dnsmasq would refuse the
// new file while the old entry is loaded), and the new MAC gets the address.
// Changes in a row are checked against the hosts index (after-hosts.ts), which
// must leave exactly the files a full update writes, and be set aside when
// the marker on disk is not the one it wrote.
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DhcpServer, renderDnsmasq, type DhcpHost, type DhcpNetwork } from '../../src/dhcp/index.js';
import { open, type Handle } from '../../src/handle.js';
import { addon } from '../../src/native.js';
import { availableDhcpClient, runDhcpClient } from '../helpers/dhcp-client.js';
import { freshName, isRoot } from '../helpers/netns.js';

const ok = isRoot && availableDhcpClient() !== undefined;
if (!ok) console.warn('test/integration/dhcp-hostsdir.test.ts: skipped, needs root and a DHCP client');

const H: Record<string, DhcpHost> = {
  a: { mac: 'd0:0d:0a:01:05:02', ip: '10.1.5.2', hostname: 'i-a' },
  b: { mac: 'd0:0d:0a:01:05:03', ip: '10.1.5.3', hostname: 'i-b' },
  // b's address for another MAC (another instance).
  c: { mac: 'd0:0d:0a:01:05:33', ip: '10.1.5.3', hostname: 'i-c' },
  d: { mac: 'd0:0d:0a:01:05:04', ip: '10.1.5.4', hostname: 'i-d' },
  e: { mac: 'd0:0d:0a:01:05:05', ip: '10.1.5.5', hostname: 'i-e' },
};
const net = (...hosts: DhcpHost[]): DhcpNetwork[] => [{ interface: 'eucabr15', subnet: '10.1.5.0/27', gateway: '10.1.5.1', dns: ['192.168.32.1'], hosts }];

/** Everything a test makes, undone in reverse order even on failure. */
async function withLab(fn: (lab: { server: DhcpServer; instance: (port: string, mac: string) => Promise<string>; log: () => string }) => Promise<void>) {
  const undo: Array<() => unknown> = [];
  const stateDir = mkdtempSync(join(tmpdir(), 'eucanet-hostsdir-'));
  chmodSync(stateDir, 0o755); // dnsmasq reads its files as "nobody"
  undo.push(() => rmSync(stateDir, { recursive: true, force: true }));
  const cc = freshName('euhd-cc');
  addon.netnsCreate(cc);
  undo.push(() => addon.netnsDelete(cc));
  const h: Handle = open({ netns: cc });
  undo.push(() => h.close());
  try {
    await h.links.add({ name: 'eucabr15', kind: 'bridge', stp: false, forwardDelay: 0, up: true });
    await h.addresses.add({ dev: 'eucabr15', address: '10.1.5.1/27' });
    const server = new DhcpServer({ netns: cc, stateDir });
    undo.push(() => server.stop());
    const instance = async (port: string, mac: string) => {
      const ns = freshName('euhd-i');
      addon.netnsCreate(ns);
      undo.push(() => addon.netnsDelete(ns));
      await h.links.add({ name: port, kind: 'veth', peer: 'eth0', peerNetns: ns, peerAddress: mac, master: 'eucabr15', up: true });
      const ih = open({ netns: ns });
      try {
        await ih.links.set('eth0', { up: true });
      } finally {
        ih.close();
      }
      return ns;
    };
    await fn({ server, instance, log: () => readFileSync(server.paths.log, 'utf8') });
  } finally {
    for (const f of undo.reverse()) await Promise.resolve(f()).catch(() => undefined);
  }
}

describe.skipIf(!ok)('DHCP hosts added through the hosts directory (root, real dnsmasq)', () => {
  it('a new host gets its lease with no SIGHUP; a removed one is forgotten after the reload that follows', async () => {
    await withLab(async ({ server, instance, log }) => {
      const start = await server.update(net(H.a));
      expect(start.action).toBe('start');
      const ib = await instance('vb', H.b.mac);
      const before = log().length;

      const added = await server.updateHosts(net(H.a, H.b), { add: [H.b], del: [] });
      expect(added).toMatchObject({ action: 'hosts', pid: start.pid, added: 1, removed: 0 });
      // The host's file is there when updateHosts resolves (what "enforced" means for DHCP).
      expect(readFileSync(join(server.paths.hostsDir, H.b.ip), 'utf8')).toBe(`${H.b.mac},${H.b.ip},i-b\n`);
      expect((statSync(join(server.paths.hostsDir, H.b.ip)).mode & 0o777).toString(8)).toBe('644');
      expect(await runDhcpClient(ib)).toMatchObject({ ip: H.b.ip, router: '10.1.5.1', hostname: 'i-b' });
      const since = log().slice(before);
      // dnsmasq read the one file through inotify, and never re-read its hosts or options file (no SIGHUP).
      expect(since).toContain(`inotify: ${join(server.paths.hostsDir, H.b.ip)} new or modified`);
      expect(since).not.toContain(`read ${server.paths.opts}`);
      expect(since).not.toContain(`read ${server.paths.hosts}\n`);
      // After it: the hosts file has every host, and a full update finds nothing to do.
      expect(await added.background).toBeUndefined();
      expect(readFileSync(server.paths.hosts, 'utf8')).toContain(`${H.b.mac},${H.b.ip},i-b\n`);
      expect(await server.update(net(H.a, H.b))).toEqual({ action: 'unchanged', pid: start.pid });

      const removed = await server.updateHosts(net(H.a), { add: [], del: [H.b] });
      expect(removed).toMatchObject({ action: 'hosts', pid: start.pid, removed: 1 });
      expect(await removed.background).toBeUndefined();
      // The reload emptied the directory, and dnsmasq no longer answers b.
      expect(readdirSync(server.paths.hostsDir)).toEqual([]);
      expect(readFileSync(server.paths.hosts, 'utf8')).not.toContain(H.b.mac);
      await expect(runDhcpClient(ib, 'eth0', { attempts: 2, configure: false })).rejects.toThrow(/no lease/);
      expect(await server.update(net(H.a))).toEqual({ action: 'unchanged', pid: start.pid });
    });
  }, 60_000);

  it('an address given to a new MAC is reloaded at once, and the new MAC gets it', async () => {
    await withLab(async ({ server, instance }) => {
      const start = await server.update(net(H.a, H.b));
      const ic = await instance('vc', H.c.mac);
      // c takes b's address (b terminated, c run, in one change): dnsmasq would refuse c's file while b's entry is loaded.
      const r = await server.updateHosts(net(H.a, H.c), { add: [H.c], del: [H.b] });
      expect(r.action).toBe('reload');
      expect(r.pid).toBe(start.pid);
      expect(readFileSync(server.paths.hosts, 'utf8')).toContain(`${H.c.mac},${H.c.ip},i-c\n`);
      expect(await runDhcpClient(ic)).toMatchObject({ ip: H.c.ip, hostname: 'i-c' });
    });
  }, 60_000);

  it('changes in a row (the hosts index): a removed host is forgotten, the files are what a full update writes, a foreign marker sets the index aside', async () => {
    await withLab(async ({ server, instance }) => {
      const start = await server.update(net(H.a));
      const ib = await instance('vb', H.b.mac);
      const inode = (p: string) => statSync(p).ino;
      // The first change's step normalises every host and keeps the index; the next ones use it.
      expect(await (await server.updateHosts(net(H.a, H.b), { add: [H.b], del: [] })).background).toBeUndefined();
      expect(await (await server.updateHosts(net(H.a, H.b, H.d), { add: [H.d], del: [] })).background).toBeUndefined();
      expect(await runDhcpClient(ib)).toMatchObject({ ip: H.b.ip, hostname: 'i-b' });
      const opts = inode(server.paths.opts);
      const removed = await server.updateHosts(net(H.a, H.d), { add: [], del: [H.b] });
      expect(await removed.background).toBeUndefined();
      // The index's reload leaves the options file alone (only hosts changed) and dnsmasq forgets b.
      expect(inode(server.paths.opts)).toBe(opts);
      expect(readdirSync(server.paths.hostsDir)).toEqual([]);
      expect(readFileSync(server.paths.hosts, 'utf8')).toBe(renderDnsmasq(net(H.a, H.d), { stateDir: server.paths.dir }).hosts);
      await expect(runDhcpClient(ib, 'eth0', { attempts: 2, configure: false })).rejects.toThrow(/no lease/);

      // Another process's marker: the index is not trusted, the removal is judged in full (the options file rewritten).
      expect(await (await server.updateHosts(net(H.a, H.d, H.e), { add: [H.e], del: [] })).background).toBeUndefined();
      writeFileSync(server.paths.loaded, `${start.pid} 0-0000000000000000\n`);
      const again = await server.updateHosts(net(H.a, H.e), { add: [], del: [H.d] });
      expect(await again.background).toBeUndefined();
      expect(inode(server.paths.opts)).not.toBe(opts);
      expect(await server.update(net(H.a, H.e))).toEqual({ action: 'unchanged', pid: start.pid });
    });
  }, 60_000);
});
