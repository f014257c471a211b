// Two clusters (issue 18) with real packets, in throw-away namespaces
// (test/helpers/two-clusters.ts): each cluster's CC and one NC on its own
// private switch (drops multicast), both CCs on a public network whose wires
// have MTU 1550 (the inter-cluster VXLAN adds 50 bytes to a 1500-byte frame).
// Group a: i-a1 on nc1 (c1), i-a2 on nc3 (c2); group b: i-b1 on nc1 (c1).
// Instances get their addresses statically, default route via their own
// cluster's gateway; DHCP runs on both CCs and is checked with a client that
// only reads its lease (router and server must be the instance's own CC).
import { spawn, spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allocate } from '../../src/managed/allocate.js';
import { applyRole } from '../../src/managed/apply.js';
import { gatewayOf } from '../../src/managed/clusters.js';
import { groupNet, parseBlock } from '../../src/managed/net.js';
import type { AllocatedState, State } from '../../src/managed/types.js';
import { TwoClusters } from '../helpers/two-clusters.js';
import { twoClusterCloud } from '../helpers/two-cluster-state.js';
import { dhcpServerFor } from '../../src/managed/apply.js';
import { runDhcpClient } from '../../src/demo/dhcp-client.js';
import { isRoot, nsExec } from '../helpers/netns.js';

if (!isRoot) console.warn('test/integration/managed-clusters.test.ts: skipped, needs root');

const ZERO = '00:00:00:00:00:00';

function ping(ns: string, ip: string, size = 56): boolean {
  const r = spawnSync('ip', ['netns', 'exec', ns, 'busybox', 'ping', '-c', '1', '-W', '1', '-s', String(size), ip], { encoding: 'utf8' });
  return r.status === 0;
}

/** A TCP connection from `ns` to ip:port where a busybox nc listens in `server`, sending a line through. */
async function tcp(server: string, ns: string, ip: string, port: number): Promise<boolean> {
  const srv = spawn('ip', ['netns', 'exec', server, 'busybox', 'nc', '-l', '-p', String(port)], { stdio: ['ignore', 'pipe', 'ignore'] });
  let got = '';
  srv.stdout.on('data', (d: Buffer) => (got += d.toString()));
  await new Promise((r) => setTimeout(r, 200));
  spawnSync('ip', ['netns', 'exec', ns, 'busybox', 'nc', '-w', '2', ip, String(port)], { input: 'hello\n', timeout: 3000 });
  await new Promise((r) => setTimeout(r, 200));
  srv.kill();
  return got.includes('hello');
}

/** Remotes of the all-zeros entries of `dev` in `ns` (bridge -j fdb). */
function floodList(ns: string, dev: string): string[] {
  const entries = JSON.parse(nsExec(ns, 'bridge', ['-j', 'fdb', 'show', 'dev', dev]) || '[]') as Array<{ mac: string; dst?: string }>;
  return entries
    .filter((e) => e.mac === ZERO && e.dst)
    .map((e) => e.dst!)
    .sort();
}

function doc(): State {
  return twoClusterCloud({
    groups: [
      { owner: 'admin', name: 'a', rules: [{ protocol: 'icmp', cidr: '192.168.32.0/24' }] },
      { owner: 'admin', name: 'b', rules: [] },
    ],
    instances: [
      { id: 'i-a1', group: 'admin/a', node: 'nc1', publicIp: true },
      { id: 'i-a2', group: 'admin/a', node: 'nc3', publicIp: true },
      { id: 'i-b1', group: 'admin/b', node: 'nc1' },
    ],
  });
}

describe.skipIf(!isRoot)('two clusters joined by tunnels between the CCs (root)', () => {
  const topo = new TwoClusters();
  let s: AllocatedState;
  const inst = (id: string) => s.instances.find((i) => i.id === id)!;
  const applyAll = async (st: AllocatedState, clusters: string[], nodes: string[]) => {
    for (const c of clusters) await applyRole(st, { role: 'cc', cluster: c }, { netns: topo.cc(c), dhcp: true });
    for (const n of nodes) await applyRole(st, { role: 'nc', node: n }, { netns: topo.nc(n) });
  };

  beforeAll(async () => {
    try {
      s = allocate(doc());
      await topo.build(s);
      for (const i of s.instances) {
        const g = s.groups.find((x) => `${x.owner}/${x.name}` === i.group)!;
        const index = i.node === 'nc1' ? 0 : 1;
        await topo.addInstance(i, groupNet(g).prefix, gatewayOf(parseBlock('subnet', g.subnet), index));
      }
      await applyAll(s, ['c1', 'c2'], ['nc1', 'nc3']);
    } catch (err) {
      await topo.teardown().catch(() => undefined);
      throw err;
    }
  }, 60_000);

  afterAll(async () => {
    for (const c of ['c1', 'c2'])
      await dhcpServerFor(topo.cc(c))
        .stop()
        .catch(() => undefined);
    for (const c of ['c1', 'c2']) rmSync(`/run/eucanet/${topo.cc(c)}`, { recursive: true, force: true });
    await topo.teardown();
  }, 30_000);

  it("DHCP: each instance gets its own cluster's CC as router (and lease server), though both CCs hear it", async () => {
    const a1 = await runDhcpClient(topo.inst('i-a1'), 'eth0', { configure: false });
    const a2 = await runDhcpClient(topo.inst('i-a2'), 'eth0', { configure: false });
    const block = parseBlock('subnet', s.groups[0].subnet);
    const [gw1, gw2] = [gatewayOf(block, 0), gatewayOf(block, 1)];
    expect(gw1).not.toBe(gw2);
    expect([a1.ip, a1.router, a1.serverId]).toEqual([inst('i-a1').privateIp, gw1, gw1]);
    expect([a2.ip, a2.router, a2.serverId]).toEqual([inst('i-a2').privateIp, gw2, gw2]);
  }, 30_000);

  it('each CC has a tunnel per group flooding to the other CC', () => {
    expect(floodList(topo.cc('c1'), 'eucatun10')).toEqual(['192.168.32.21']);
    expect(floodList(topo.cc('c2'), 'eucatun10')).toEqual(['192.168.32.20']);
  });

  it('group a in cluster 1 reaches group a in cluster 2: tcp and a full-size ping', async () => {
    const a2 = inst('i-a2').privateIp;
    expect(ping(topo.inst('i-a1'), a2, 1472), '1500-byte ping i-a1 -> i-a2').toBe(true);
    expect(await tcp(topo.inst('i-a2'), topo.inst('i-a1'), a2, 2222), 'tcp i-a1 -> i-a2').toBe(true);
  });

  it('group b in cluster 1 cannot reach group a in cluster 2', async () => {
    const a2 = inst('i-a2').privateIp;
    expect(ping(topo.inst('i-b1'), a2)).toBe(false);
    expect(await tcp(topo.inst('i-a2'), topo.inst('i-b1'), a2, 2223)).toBe(false);
  });

  it("each cluster's public IP reaches its own instance, through its own CC", () => {
    expect(ping(topo.pub, inst('i-a1').publicIp!), 'i-a1 public').toBe(true);
    expect(ping(topo.pub, inst('i-a2').publicIp!), 'i-a2 public').toBe(true);
    const addrs = (ns: string) => nsExec(ns, 'ip', ['-j', 'addr', 'show', 'dev', 'eth0']);
    expect(addrs(topo.cc('c1'))).toContain(inst('i-a1').publicIp!);
    expect(addrs(topo.cc('c1'))).not.toContain(inst('i-a2').publicIp!);
    expect(addrs(topo.cc('c2'))).toContain(inst('i-a2').publicIp!);
  });

  it("removing cluster 2 is a state change: cluster 1's CC loses its tunnel entries to it", async () => {
    const one = doc();
    delete one.clusters!.c2;
    one.instances = one.instances!.filter((i) => i.node !== 'nc3').map((i) => ({ ...i, ...s.instances.find((x) => x.id === i.id) }));
    const st = allocate(one);
    await applyRole(st, { role: 'cc', cluster: 'c1' }, { netns: topo.cc('c1'), dhcp: false });
    const links = JSON.parse(nsExec(topo.cc('c1'), 'ip', ['-j', 'link'])) as Array<{ ifname: string }>;
    expect(links.some((l) => l.ifname.startsWith('eucatun'))).toBe(false);
  });
});
