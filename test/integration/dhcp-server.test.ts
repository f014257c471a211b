// The real dnsmasq, supervised by DhcpServer in a "cc" namespace, serving
// instances in their own namespaces through a bridge, checked with a real DHCP
// client (busybox udhcpc, or dhclient) and `ip -j` as the oracle. Each test
// makes fresh namespaces and removes them, and stops dnsmasq, even on failure.
// Needs root, dnsmasq (dnsmasq-base) and a DHCP client (busybox-static or
// isc-dhcp-client).
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { chmodSync, closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DhcpError, DhcpServer, type DhcpNetwork } from '../../src/dhcp/index.js';
import { dhcpNetworksOf } from '../../src/managed/roles/dhcp.js';
import { allocate } from '../../src/managed/allocate.js';
import { open, type Handle } from '../../src/handle.js';
import { addon } from '../../src/native.js';
import { availableDhcpClient, runDhcpClient } from '../helpers/dhcp-client.js';
import { freshName, isRoot } from '../helpers/netns.js';

const hasDnsmasq = existsSync('/usr/sbin/dnsmasq');
const client = availableDhcpClient();
if (!isRoot) console.warn('test/integration/dhcp-server.test.ts: skipped, needs root (network namespaces)');
else if (!hasDnsmasq || !client) {
  // Root without the programs is a broken CI image, not a reason to skip quietly.
  throw new Error('test/integration/dhcp-server.test.ts needs dnsmasq (apt-get install dnsmasq-base) and busybox-static or isc-dhcp-client');
}

const MAC = { i1: 'd0:0d:0a:01:02:02', i2: 'd0:0d:0a:01:02:03', i4: 'd0:0d:0a:01:02:04', i3: 'd0:0d:0a:01:02:22', new: 'd0:0d:0a:01:02:99' };

/** Namespaces, handles, servers and processes of one test, all undone in reverse order. */
class Lab {
  readonly cc = freshName('eud-cc');
  readonly stateDir: string;
  private readonly undo: Array<() => unknown> = [];
  h!: Handle;

  constructor() {
    this.stateDir = mkdtempSync(join(tmpdir(), 'eucanet-dhcp-'));
    chmodSync(this.stateDir, 0o755); // dnsmasq re-reads its files as "nobody"
    this.undo.push(() => rmSync(this.stateDir, { recursive: true, force: true }));
    this.netns(this.cc);
    this.h = open({ netns: this.cc });
    this.undo.push(() => this.h.close());
  }

  netns(name: string): string {
    addon.netnsCreate(name);
    this.undo.push(() => addon.netnsDelete(name));
    return name;
  }

  server(): DhcpServer {
    const s = new DhcpServer({ netns: this.cc, stateDir: this.stateDir, logDhcp: true });
    this.undo.push(() => s.stop());
    return s;
  }

  defer(fn: () => unknown): void {
    this.undo.push(fn);
  }

  /** A group bridge on the CC with gateway addresses. */
  async bridge(name: string, ...addresses: string[]): Promise<void> {
    await this.h.links.add({ name, kind: 'bridge', stp: false, forwardDelay: 0, up: true });
    for (const a of addresses) await this.h.addresses.add({ dev: name, address: a });
  }

  /** An instance: its own namespace, eth0 with `mac`, a veth port `port` on the bridge. */
  async instance(port: string, bridge: string, mac: string): Promise<string> {
    const ns = this.netns(freshName('eud-i'));
    await this.h.links.add({ name: port, kind: 'veth', peer: 'eth0', peerNetns: ns, peerAddress: mac, master: bridge, up: true });
    const ih = open({ netns: ns });
    try {
      await ih.links.set('lo', { up: true });
      await ih.links.set('eth0', { up: true });
    } finally {
      ih.close();
    }
    return ns;
  }

  async close(): Promise<void> {
    const errors: unknown[] = [];
    for (const fn of this.undo.reverse()) {
      try {
        await fn();
      } catch (err) {
        errors.push(err);
      }
    }
    if (errors.length) throw errors[0];
  }
}

async function withLab(fn: (lab: Lab) => Promise<void>): Promise<void> {
  const lab = new Lab();
  try {
    await fn(lab);
  } finally {
    await lab.close();
  }
}

const ipJson = (ns: string, ...args: string[]): any[] => JSON.parse(execFileSync('ip', ['-n', ns, '-j', ...args], { encoding: 'utf8' }));

function addressesOf(ns: string, dev = 'eth0'): string[] {
  return ipJson(ns, 'addr', 'show', 'dev', dev)[0]
    .addr_info.filter((a: any) => a.family === 'inet')
    .map((a: any) => `${a.local}/${a.prefixlen}`);
}

function defaultGateway(ns: string): string | undefined {
  return ipJson(ns, 'route', 'show', 'default')[0]?.gateway;
}

/** Pids of every live process whose command line names this config file. */
function dnsmasqsWith(config: string): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        return (
          readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0').includes(`--conf-file=${config}`) && !readFileSync(`/proc/${d}/stat`, 'utf8').includes(') Z ')
        );
      } catch {
        return false;
      }
    })
    .map(Number);
}

const group10 = (hosts: Array<[string, string, string?]>): DhcpNetwork => ({
  interface: 'eucabr10',
  subnet: '10.1.2.0/27',
  gateway: '10.1.2.1',
  dns: ['192.168.32.1'],
  hosts: hosts.map(([mac, ip, hostname]) => (hostname ? { mac, ip, hostname } : { mac, ip })),
});

describe.skipIf(!isRoot)(`DHCP with dnsmasq (root; client ${client})`, () => {
  it('gives an instance its static lease, reloads with SIGHUP for a new host without a new pid, attaches instead of starting twice, stops', async () => {
    await withLab(async (lab) => {
      await lab.bridge('eucabr10', '10.1.2.1/27');
      const i1 = await lab.instance('vnet1', 'eucabr10', MAC.i1);
      const i2 = await lab.instance('vnet2', 'eucabr10', MAC.i2);
      const server = lab.server();

      const started = await server.update([
        group10([
          [MAC.i1, '10.1.2.2', 'i-1'],
          [MAC.i4, '10.1.2.4', 'i-4'],
        ]),
      ]);
      expect(started.action).toBe('start');
      const pid = started.pid!;
      // nsenter exec'd dnsmasq in place: our direct child is dnsmasq itself, in the cc namespace.
      expect(readFileSync(`/proc/${pid}/comm`, 'utf8').trim()).toBe('dnsmasq');
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      expect(Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])).toBe(process.pid);
      expect(statSync(`/proc/${pid}/ns/net`).ino).toBe(statSync(`/run/netns/${lab.cc}`).ino);
      expect(dnsmasqsWith(server.paths.config)).toEqual([pid]);

      const lease = await runDhcpClient(i1);
      expect(lease).toMatchObject({ ip: '10.1.2.2', prefix: 27, router: '10.1.2.1', dns: ['192.168.32.1'], hostname: 'i-1' });
      expect(addressesOf(i1)).toEqual(['10.1.2.2/27']);
      expect(defaultGateway(i1)).toBe('10.1.2.1');

      // i2's MAC is not known yet: dnsmasq ignores it.
      await expect(runDhcpClient(i2, 'eth0', { attempts: 2 })).rejects.toThrow(/no lease/);

      const reloaded = await server.update([
        group10([
          [MAC.i1, '10.1.2.2', 'i-1'],
          [MAC.i4, '10.1.2.4', 'i-4'],
          [MAC.i2, '10.1.2.3', 'i-2'],
        ]),
      ]);
      expect(reloaded).toEqual({ action: 'reload', pid });
      expect(await runDhcpClient(i2)).toMatchObject({ ip: '10.1.2.3', prefix: 27, router: '10.1.2.1' });
      expect(addressesOf(i2)).toEqual(['10.1.2.3/27']);
      expect(defaultGateway(i2)).toBe('10.1.2.1');
      expect(readFileSync(server.paths.leases, 'utf8')).toMatch(new RegExp(`${MAC.i2} 10\\.1\\.2\\.3 i-2`));

      // A later `eucanet apply` (another DhcpServer object) finds the same dnsmasq.
      const again = new DhcpServer({ netns: lab.cc, stateDir: lab.stateDir, logDhcp: true });
      expect(await again.attach()).toBe(pid);
      expect(
        (
          await again.update([
            group10([
              [MAC.i1, '10.1.2.2', 'i-1'],
              [MAC.i4, '10.1.2.4', 'i-4'],
              [MAC.i2, '10.1.2.3', 'i-2'],
            ]),
          ])
        ).pid,
      ).toBe(pid);
      expect(dnsmasqsWith(server.paths.config)).toEqual([pid]);

      expect(await server.stop()).toEqual({ stopped: true, pid, signal: 'SIGTERM' });
      expect(existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ')).toBe(false);
      expect(dnsmasqsWith(server.paths.config)).toEqual([]);
      expect(await again.status()).toMatchObject({ running: false });
    });
  });

  it('restarts gracefully for a new group bridge (made after dnsmasq started) and for an address moved to a new MAC; leases survive', async () => {
    await withLab(async (lab) => {
      await lab.bridge('eucabr10', '10.1.2.1/27');
      const i1 = await lab.instance('vnet1', 'eucabr10', MAC.i1);
      const server = lab.server();
      const first = await server.update([group10([[MAC.i1, '10.1.2.2', 'i-1']])]);
      expect((await runDhcpClient(i1)).ip).toBe('10.1.2.2');

      // A new group: its bridge appears while dnsmasq runs (bind-dynamic), and its range needs a restart.
      await lab.bridge('eucabr11', '10.1.2.33/27');
      const i3 = await lab.instance('vnet3', 'eucabr11', MAC.i3);
      const group11: DhcpNetwork = {
        interface: 'eucabr11',
        subnet: '10.1.2.32/27',
        gateway: '10.1.2.33',
        hosts: [{ mac: MAC.i3, ip: '10.1.2.34', hostname: 'i-3' }],
      };
      const restarted = await server.update([group10([[MAC.i1, '10.1.2.2', 'i-1']]), group11]);
      expect(restarted).toMatchObject({ action: 'restart', previousPid: first.pid, reason: expect.stringMatching(/main configuration/) });
      expect(restarted.pid).not.toBe(first.pid);
      expect(await runDhcpClient(i3)).toMatchObject({ ip: '10.1.2.34', prefix: 27, router: '10.1.2.33', dns: [] });
      expect(defaultGateway(i3)).toBe('10.1.2.33');
      // i1's lease came through the restart.
      expect(readFileSync(server.paths.leases, 'utf8')).toMatch(new RegExp(`${MAC.i1} 10\\.1\\.2\\.2 `));
      expect((await runDhcpClient(i1)).ip).toBe('10.1.2.2');

      // i1 terminated; its address goes to a new instance with another MAC while i1's lease is live.
      const i9 = await lab.instance('vnet9', 'eucabr10', MAC.new);
      const moved = await server.update([group10([[MAC.new, '10.1.2.2', 'i-9']]), group11]);
      expect(moved).toMatchObject({ action: 'restart', reason: expect.stringMatching(/10\.1\.2\.2 is given to a new MAC/) });
      expect(await runDhcpClient(i9)).toMatchObject({ ip: '10.1.2.2', router: '10.1.2.1', hostname: 'i-9' });
      expect(dnsmasqsWith(server.paths.config)).toEqual([moved.pid]);
    });
  });

  it('MANAGED-NOVLAN: two group networks on one bridge, each instance with its own router', async () => {
    await withLab(async (lab) => {
      await lab.bridge('eucabr0', '10.1.2.1/27', '10.1.2.33/27');
      const a = await lab.instance('vnet1', 'eucabr0', MAC.i1);
      const b = await lab.instance('vnet3', 'eucabr0', MAC.i3);
      const server = lab.server();
      await server.update([
        { interface: 'eucabr0', subnet: '10.1.2.0/27', gateway: '10.1.2.1', hosts: [{ mac: MAC.i1, ip: '10.1.2.2' }] },
        { interface: 'eucabr0', subnet: '10.1.2.32/27', gateway: '10.1.2.33', dns: ['10.1.2.33'], hosts: [{ mac: MAC.i3, ip: '10.1.2.34' }] },
      ]);
      expect(await runDhcpClient(a)).toMatchObject({ ip: '10.1.2.2', prefix: 27, router: '10.1.2.1', dns: [] });
      expect(await runDhcpClient(b)).toMatchObject({ ip: '10.1.2.34', prefix: 27, router: '10.1.2.33', dns: ['10.1.2.33'] });
    });
  });

  it('instance ids dnsmasq would read as keywords or lease times ("ignore", "infinite", "1234", "60m") leave every lease as configured', async () => {
    await withLab(async (lab) => {
      await lab.bridge('eucabr10', '10.1.2.1/27');
      const ids = ['ignore', 'infinite', '1234', '60m', 'i-5'];
      const state = allocate({
        mode: 'MANAGED',
        subnet: '10.1.0.0/16',
        addrsPerNet: 32,
        cc: { publicInterface: 'eth0', privateInterface: 'eth1' },
        nodes: { nc1: { privateInterface: 'eth0' } },
        groups: [{ owner: 'admin', name: 'default', vlan: 10, subnet: '10.1.2.0/27' }],
        instances: ids.map((id) => ({ id, group: 'admin/default', node: 'nc1' })),
      });
      // The MANAGED state's hosts, as applyRole maps them.
      const nets = dhcpNetworksOf(state);
      const spaces = await Promise.all(state.instances.map((inst, k) => lab.instance(`vnet${k}`, 'eucabr10', inst.mac)));
      const server = lab.server();
      await server.update(nets);
      const leases = await Promise.all(spaces.map((ns) => runDhcpClient(ns)));
      expect(leases.map((l) => [l.ip, l.leaseTime])).toEqual(state.instances.map((i) => [i.privateIp, 43200]));
      expect(leases.map((l) => l.hostname)).toEqual([undefined, undefined, undefined, undefined, 'i-5']);
    });
  });

  it('a namespace given as a descriptor reaches dnsmasq; a path to the same namespace finds that dnsmasq', async () => {
    await withLab(async (lab) => {
      await lab.bridge('eucabr10', '10.1.2.1/27');
      const i1 = await lab.instance('vnet1', 'eucabr10', MAC.i1);
      const fd = openSync(`/run/netns/${lab.cc}`, 'r');
      lab.defer(() => closeSync(fd));
      const server = new DhcpServer({ netns: fd, stateDir: lab.stateDir });
      lab.defer(() => server.stop());
      const { pid } = await server.update([group10([[MAC.i1, '10.1.2.2', 'i-1']])]);
      expect(statSync(`/proc/${pid}/ns/net`).ino).toBe(statSync(`/run/netns/${lab.cc}`).ino);
      expect((await runDhcpClient(i1)).ip).toBe('10.1.2.2');
      const byPath = new DhcpServer({ netns: `/proc/${process.pid}/fd/${fd}`, stateDir: lab.stateDir });
      expect(await byPath.attach()).toBe(pid);
      expect(await byPath.update([group10([[MAC.i1, '10.1.2.2', 'i-1']])])).toEqual({ action: 'unchanged', pid });
      // Without a state directory, both name the same one, after the namespace.
      expect(new DhcpServer({ netns: fd }).paths.dir).toBe(new DhcpServer({ netns: `/proc/${process.pid}/fd/${fd}` }).paths.dir);
    });
  });

  it("dnsmasq's early exit is an error with its exit code and last log line", async () => {
    await withLab(async (lab) => {
      await lab.bridge('eucabr10', '10.1.2.1/27');
      // Something else holds UDP port 67 in the namespace, without SO_REUSEPORT.
      const holder: ChildProcess = spawn(
        'nsenter',
        [
          `--net=/run/netns/${lab.cc}`,
          '--',
          'python3',
          '-c',
          'import socket,time;s=socket.socket(2,2);s.bind(("0.0.0.0",67));print("bound",flush=True);time.sleep(60)',
        ],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      lab.defer(() => holder.kill('SIGKILL'));
      await new Promise((resolve) => holder.stdout!.once('data', resolve));
      const err = await lab
        .server()
        .update([group10([[MAC.i1, '10.1.2.2']])])
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(err).toBeInstanceOf(DhcpError);
      expect(err).toMatchObject({ code: 'EXITED', exitCode: 2 });
      expect((err as DhcpError).message).toMatch(/exited with code 2 \(a problem with network access/);
      expect((err as DhcpError).logTail.join('\n')).toMatch(/failed to bind DHCP server socket: Address (already )?in use/);
    });
  });
});
