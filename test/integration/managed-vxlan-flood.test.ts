// VXLAN segments over a private switch that drops IPv4 multicast (issue 15),
// proved with real packets in a throw-away cloud of namespaces
// (test/helpers/cloud-topology.ts; its switch drops 224.0.0.0/4 between ports).
//
// admin/default: i-1 on nc1, i-5 on nc2; admin/web: i-3 on nc1. Instances get
// their allocated addresses statically (DHCP's broadcast could not cross in
// the multicast case either), default route via their group's gateway on the CC.
//
// 1. vxlanFlood "multicast": every segment floods over 239.1.1.1, which the
//    switch drops: the CC reaches no instance and i-1 does not reach i-5 (the
//    switch's drop counter moves). This proves the drop works.
// 2. The same hosts re-applied with "unicast" (the default) and vxlanMacs
//    "static": the vxlan devices are recreated without a group, each gets its
//    flood list and the other nodes' instance MACs (bridge -j fdb),
//    and the CC reaches i-1 and i-5, and i-1 and i-5 reach each other. A
//    second apply changes nothing.
// 3. i-5 terminated: nc2 no longer carries admin/default, and the CC's and
//    nc1's flood lists of that group lose nc2.
// 4. Learned MACs (vxlanMacs's default) re-applied: the static entries go, the
//    flood lists stay, packets cross and the CC's device learns i-1's and
//    i-3's node; i-3 moved to nc2 is found from its first frame (a booting
//    instance's DHCP broadcast does the same), with no entry written for it.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManagedCloud, type Host } from '../../src/managed/cloud.js';
import { groupNet } from '../../src/managed/net.js';
import { loadState } from '../../src/managed/statefile.js';
import type { AllocatedInstance, State } from '../../src/managed/types.js';
import { CloudTopology } from '../helpers/cloud-topology.js';
import { ipLinks, isRoot, nftRuleset, nsExec } from '../helpers/netns.js';

if (!isRoot) console.warn('test/integration/managed-vxlan-flood.test.ts: skipped, needs root');

const SEED = fileURLToPath(new URL('../../examples/seed.json', import.meta.url));
const ZERO = '00:00:00:00:00:00';
const OK_MS = 3000;

/** One ping (busybox's) from `ns`, waiting up to `seconds` for the answer. */
function ping(ns: string, ip: string, seconds = 1): boolean {
  const r = spawnSync('ip', ['netns', 'exec', ns, 'busybox', 'ping', '-c', '1', '-W', String(seconds), ip], { encoding: 'utf8' });
  if (r.error || /not found|applet/.test(r.stderr)) throw new Error(`ping could not run: ${r.error?.message ?? r.stderr}`);
  return r.status === 0;
}

/** The vxlan devices of `ns` by name, with their multicast group (undefined: none), from `ip -j -d link`. */
function vxlans(ns: string): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const l of ipLinks(ns).filter((x) => x.linkinfo?.info_kind === 'vxlan')) out[l.ifname] = l.linkinfo.info_data.group;
  return out;
}

/** The flood list of `dev` in `ns`: the remotes of its all-zeros entries, from `bridge -j fdb show`, sorted. */
function floodList(ns: string, dev: string): string[] {
  const entries = JSON.parse(nsExec(ns, 'bridge', ['-j', 'fdb', 'show', 'dev', dev]) || '[]') as Array<{ mac: string; dst?: string; flags: string[] }>;
  return entries
    .filter((e) => e.mac === ZERO && e.flags.includes('self'))
    .map((e) => e.dst!)
    .sort();
}

/** The static MAC entries of `dev` in `ns` ("mac dst"), from `bridge -j fdb show`, sorted. */
function staticMacs(ns: string, dev: string): string[] {
  const entries = JSON.parse(nsExec(ns, 'bridge', ['-j', 'fdb', 'show', 'dev', dev]) || '[]') as Array<{ mac: string; dst?: string; state: string }>;
  return entries
    .filter((e) => e.mac !== ZERO && e.dst !== undefined && e.state === 'permanent')
    .map((e) => `${e.mac} ${e.dst}`)
    .sort();
}

/** The entries `dev` in `ns` learned from received frames ("mac dst"), from `bridge -j fdb show`, sorted. */
function learnedMacs(ns: string, dev: string): string[] {
  const entries = JSON.parse(nsExec(ns, 'bridge', ['-j', 'fdb', 'show', 'dev', dev]) || '[]') as Array<{ mac: string; dst?: string; state?: string }>;
  return entries
    .filter((e) => e.mac !== ZERO && e.dst !== undefined && e.state !== 'permanent')
    .map((e) => `${e.mac} ${e.dst}`)
    .sort();
}

/** Packets the switch's multicast drop rule has counted. */
function switchDrops(ns: string): number {
  const r = nftRuleset(ns).find((o) => o.rule?.table === 'switch' && o.rule?.chain === 'forward');
  const c = (r?.rule.expr as Array<Record<string, any>>).find((e) => e.counter)?.counter;
  return c?.packets ?? 0;
}

describe.skipIf(!isRoot)('VXLAN over a switch that drops multicast (root)', () => {
  const topo = new CloudTopology('eumv');
  let doc: State;
  let hosts: Host[];
  let cloud: ManagedCloud;
  const inst = (id: string): AllocatedInstance => cloud.state.instances.find((x) => x.id === id)!;
  const apply = async (edit: (d: State) => void) => {
    const next = structuredClone(doc);
    edit(next);
    cloud = new ManagedCloud(next, hosts);
    return cloud.apply();
  };

  beforeAll(async () => {
    try {
      const { state } = await loadState(SEED);
      doc = structuredClone<State>(state);
      doc.segmentation = 'vxlan';
      doc.instances = (doc.instances ?? []).filter((i) => ['i-1', 'i-3', 'i-5'].includes(i.id)).map(({ publicIp: _p, ...i }) => i);
      hosts = [
        { role: { role: 'cc' }, netns: topo.cc },
        { role: { role: 'nc', node: 'nc1' }, netns: topo.nc('nc1') },
        { role: { role: 'nc', node: 'nc2' }, netns: topo.nc('nc2') },
      ];
      cloud = new ManagedCloud({ ...doc, vxlanFlood: 'multicast' }, hosts);
      await topo.build(cloud.state, cloud.state.instances, { public: false });
      await cloud.apply();
      for (const i of cloud.state.instances) {
        const n = groupNet(cloud.state.groups.find((g) => `${g.owner}/${g.name}` === i.group)!);
        await topo.hosts
          .get(topo.inst(i.id))
          .transaction()
          .addAddress({ dev: 'eth0', address: `${i.privateIp}/${n.prefix}` })
          .addRoute({ dst: 'default', gateway: n.gateway })
          .commit();
        await topo.startAgent(topo.inst(i.id), { id: i.id, banner: [23] });
      }
    } catch (err) {
      await topo.teardown().catch(() => undefined);
      throw err;
    }
  }, 60_000);

  afterAll(async () => {
    await topo.teardown();
  }, 30_000);

  it('multicast: the segments flood over 239.1.1.1, which the switch drops: nothing crosses it', async () => {
    expect(vxlans(topo.cc)).toEqual({ eucavx10: '239.1.1.1', eucavx11: '239.1.1.1' });
    // Only the kernel's own entry for the group, which reconcile leaves alone.
    expect(floodList(topo.cc, 'eucavx10')).toEqual(['239.1.1.1']);
    expect((await cloud.apply()).map((r) => r.ops)).toEqual([0, 0, 0]);
    expect(floodList(topo.cc, 'eucavx10')).toEqual(['239.1.1.1']);
    const before = switchDrops(topo.sw);
    const [i1, i5] = [inst('i-1'), inst('i-5')];
    expect(ping(topo.cc, i1.privateIp), 'CC -> i-1 (nc1)').toBe(false);
    expect(ping(topo.cc, i5.privateIp), 'CC -> i-5 (nc2)').toBe(false);
    const r = await topo.agent(topo.inst('i-1')).connect(i5.privateIp, 23, { timeoutMs: 1000 });
    expect(r.outcome, 'i-1 -> i-5:23 (same group, other NC)').not.toBe('ok');
    expect(switchDrops(topo.sw), 'the switch counted the dropped multicast').toBeGreaterThan(before);
  });

  it('unicast (re-applied on the running hosts): devices recreated without a group, flood lists per carrier, packets cross', async () => {
    const results = await apply((d) => {
      delete d.vxlanFlood;
      d.vxlanMacs = 'static';
    });
    expect(cloud.state.vxlanFlood).toBeUndefined(); // the default: unicast
    expect(results.every((r) => r.ops > 0)).toBe(true);
    expect(vxlans(topo.cc)).toEqual({ eucavx10: undefined, eucavx11: undefined });
    expect(vxlans(topo.nc('nc1'))).toEqual({ eucavx10: undefined, eucavx11: undefined });
    expect(vxlans(topo.nc('nc2'))).toEqual({ eucavx10: undefined });
    // The CC carries both groups; admin/default runs on nc1 and nc2, admin/web on nc1.
    expect(floodList(topo.cc, 'eucavx10')).toEqual(['10.0.0.11', '10.0.0.12']);
    expect(floodList(topo.cc, 'eucavx11')).toEqual(['10.0.0.11']);
    expect(floodList(topo.nc('nc1'), 'eucavx10')).toEqual(['10.0.0.1', '10.0.0.12']);
    expect(floodList(topo.nc('nc1'), 'eucavx11')).toEqual(['10.0.0.1']);
    expect(floodList(topo.nc('nc2'), 'eucavx10')).toEqual(['10.0.0.1', '10.0.0.11']);
    // Each other node's instance MACs point at that node (flannel's static entries).
    const [m1, m3, m5] = [inst('i-1').mac, inst('i-3').mac, inst('i-5').mac];
    expect(staticMacs(topo.cc, 'eucavx10')).toEqual([`${m1} 10.0.0.11`, `${m5} 10.0.0.12`].sort());
    expect(staticMacs(topo.cc, 'eucavx11')).toEqual([`${m3} 10.0.0.11`]);
    expect(staticMacs(topo.nc('nc1'), 'eucavx10')).toEqual([`${m5} 10.0.0.12`]);
    expect(staticMacs(topo.nc('nc2'), 'eucavx10')).toEqual([`${m1} 10.0.0.11`]);

    const [i1, i3, i5] = [inst('i-1'), inst('i-3'), inst('i-5')];
    expect(ping(topo.cc, i1.privateIp, 3), 'CC -> i-1 (nc1)').toBe(true);
    expect(ping(topo.cc, i5.privateIp, 3), 'CC -> i-5 (nc2)').toBe(true);
    expect(ping(topo.cc, i3.privateIp, 3), 'CC -> i-3 (nc1, admin/web)').toBe(true);
    const [a, b] = await Promise.all([
      topo.agent(topo.inst('i-1')).connect(i5.privateIp, 23, { timeoutMs: OK_MS }),
      topo.agent(topo.inst('i-5')).connect(i1.privateIp, 23, { timeoutMs: OK_MS }),
    ]);
    expect(a.data, 'i-1 -> i-5:23 (same group, other NC)').toBe('i-5');
    expect(b.data, 'i-5 -> i-1:23').toBe('i-1');

    // A second apply of the same state changes nothing.
    const again = await cloud.apply();
    expect(again.map((r) => r.ops)).toEqual([0, 0, 0]);
  });

  it("a node that loses its last instance of a group leaves the other hosts' flood lists", async () => {
    await topo.removeInstance(inst('i-5'));
    await apply((d) => {
      delete d.vxlanFlood;
      d.vxlanMacs = 'static';
      d.instances = (d.instances ?? []).filter((i) => i.id !== 'i-5');
    });
    expect(vxlans(topo.nc('nc2'))).toEqual({});
    expect(floodList(topo.cc, 'eucavx10')).toEqual(['10.0.0.11']);
    expect(floodList(topo.nc('nc1'), 'eucavx10')).toEqual(['10.0.0.1']);
    expect(staticMacs(topo.cc, 'eucavx10')).toEqual([`${inst('i-1').mac} 10.0.0.11`]);
    expect(staticMacs(topo.nc('nc1'), 'eucavx10')).toEqual([]);
    expect(ping(topo.cc, inst('i-1').privateIp, 3), 'CC -> i-1 still').toBe(true);
  });

  it('learned MACs (the default): the static entries go, the devices learn where instances are, and a moved instance is found from its first frame', async () => {
    const without5 = (d: State) => (d.instances = (d.instances ?? []).filter((i) => i.id !== 'i-5'));
    const results = await apply(without5);
    expect(cloud.state.vxlanMacs).toBeUndefined();
    // The CC's two static entries (i-1's, i-3's) deleted; nothing else: the devices are kept.
    expect(results.map((r) => r.ops)).toEqual([2, 0, 0]);
    expect(staticMacs(topo.cc, 'eucavx10')).toEqual([]);
    expect(staticMacs(topo.cc, 'eucavx11')).toEqual([]);
    expect(floodList(topo.cc, 'eucavx10')).toEqual(['10.0.0.11']);
    expect(floodList(topo.cc, 'eucavx11')).toEqual(['10.0.0.11']);
    const [i1, i3] = [inst('i-1'), inst('i-3')];
    expect(ping(topo.cc, i1.privateIp, 3), 'CC -> i-1 (nc1)').toBe(true);
    expect(ping(topo.cc, i3.privateIp, 3), 'CC -> i-3 (nc1, admin/web)').toBe(true);
    // The CC's devices learned both from the replies: dynamic entries, which reconcile leaves alone.
    expect(learnedMacs(topo.cc, 'eucavx10')).toContain(`${i1.mac} 10.0.0.11`);
    expect(learnedMacs(topo.cc, 'eucavx11')).toContain(`${i3.mac} 10.0.0.11`);
    expect((await cloud.apply()).map((r) => r.ops)).toEqual([0, 0, 0]);

    // i-3 moves to nc2 (terminated there, run here with its address and MAC): the CC still has it learned at nc1.
    await topo.removeInstance(i3);
    const moved = { ...i3, node: 'nc2' };
    await topo.addInstance(moved);
    await apply((d) => {
      without5(d);
      for (const i of d.instances ?? []) if (i.id === 'i-3') i.node = 'nc2';
    });
    expect(vxlans(topo.nc('nc2'))).toEqual({ eucavx11: undefined });
    expect(floodList(topo.cc, 'eucavx11')).toEqual(['10.0.0.12']);
    expect(staticMacs(topo.cc, 'eucavx11')).toEqual([]);
    const n = groupNet(cloud.state.groups.find((g) => `${g.owner}/${g.name}` === i3.group)!);
    await topo.hosts
      .get(topo.inst('i-3'))
      .transaction()
      .addAddress({ dev: 'eth0', address: `${i3.privateIp}/${n.prefix}` })
      .addRoute({ dst: 'default', gateway: n.gateway })
      .commit();
    // Its first frame (an ARP broadcast for its gateway, as its DHCP discover would be) reaches the CC and moves the CC's entry.
    expect(ping(topo.inst('i-3'), n.gateway, 3), 'i-3 (now on nc2) -> its gateway').toBe(true);
    expect(learnedMacs(topo.cc, 'eucavx11')).toContain(`${i3.mac} 10.0.0.12`);
    expect(ping(topo.cc, i3.privateIp, 3), 'CC -> i-3 (nc2)').toBe(true);
    expect((await cloud.apply()).map((r) => r.ops)).toEqual([0, 0, 0]);
  });
});
