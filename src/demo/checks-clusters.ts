// The checks of a cloud of two clusters (--clusters 2, issue 18), with
// packets: a group's segment joined across the clusters by the CCs' tunnels
// (12), other groups kept out of it (13), each cluster's public addresses on
// its own CC (14), each instance's router its own cluster's CC (15). Cluster
// 1 is the seed's (euca-cc, nc1, nc2, #1..#8); cluster 2 has its own CC
// (euca-cc2) and node (nc3) with #9 (the seed's first group) and #10 (its
// second).
import { gatewayOf } from '../managed/clusters.js';
import { parseBlock } from '../managed/net.js';
import type { AllocatedInstance } from '../managed/types.js';
import { must } from '../util/must.js';
import { CC_UDP_PORT, DROP_MS, PEER_PORT, show, sleep, type CheckRow, type Ctx } from './check-context.js';
import { icmp, openPorts, tcp, tryAll, withOnLinkRoutes, type Attempt } from './checks-private.js';
import { instanceNetns, NS_PUB, PUB_IP } from './topology.js';

const tag = (i: AllocatedInstance) => `#${i.id.slice(2)}`;

/** The seed's #1 (cluster 1, first group), and cluster 2's instance of the same group and of another. */
function cast(x: Ctx): { a: AllocatedInstance; b: AllocatedInstance; remoteA: AllocatedInstance; remoteB: AllocatedInstance } {
  const [a, b] = [x.inst(1), x.inst(3)];
  const there = x.instancesIn(1);
  return {
    a,
    b,
    remoteA: must(
      there.find((i) => i.group === a.group),
      `an instance of ${a.group} in cluster 2`,
    ),
    remoteB: must(
      there.find((i) => i.group === b.group),
      `an instance of ${b.group} in cluster 2`,
    ),
  };
}

const where = (x: Ctx, i: AllocatedInstance) => `${i.node}, ${x.clusterOf(i).name}`;

// 12. #1 (cluster 1) reaches #9 (same group, cluster 2): tcp both ways and a full-size ping.
export async function clusterSameGroup(x: Ctx): Promise<CheckRow> {
  const { a, remoteA: r } = cast(x);
  // 1472 bytes of ICMP payload: a 1500-byte IP packet. The kernel sends it with DF (it fits the
  // route's MTU and ip_no_pmtu_disc is 0), and between the clusters it crosses only bridges and the
  // CCs' tunnel, none of which fragments: it arrives whole or not at all.
  const [t, p, back] = await Promise.all([
    x.of(1).connect(r.privateIp, 23),
    x.of(1).ping(r.privateIp, 2000, 1472),
    x.responder(instanceNetns(r.id)).connect(a.privateIp, 23),
  ]);
  return {
    name: `12 clusters, same group: #1 ${a.privateIp} (${where(x, a)}) -> ${tag(r)} ${r.privateIp} (${where(x, r)}), tcp/23 and a full-size (1500-byte, DF) ping; ${tag(r)} -> #1 tcp/23`,
    expected: `"${r.id}" and echo reply; "${a.id}" (one segment for ${a.group} across both clusters, joined by the CCs' tunnels)`,
    observed: `${show(t)}, ${p.ok ? 'echo reply' : `no reply (${p.output})`}; ${tag(r)} -> #1: ${show(back)}`,
    pass: t.data === r.id && p.ok && back.data === a.id,
  };
}

// 13. #3 (other group, cluster 1) cannot reach #9 (cluster 2); #10 (other group, cluster 2) cannot reach #1.
export async function clusterOtherGroup(x: Ctx): Promise<CheckRow> {
  const { a, b, remoteA, remoteB } = cast(x);
  const pairs = [
    [b, remoteA],
    [remoteB, a],
  ] as const;
  const routed: Attempt[] = [];
  const direct: Attempt[] = [];
  for (const [from, to] of pairs) {
    const fr = x.responder(instanceNetns(from.id));
    const open = openPorts(x.group(to));
    const label = `${tag(from)}->${tag(to)}`;
    for (const port of [22, 23, 80].filter((q) => !open.has(q))) routed.push({ label: `${label}:${port}`, run: tcp(fr, to.privateIp, port) });
    routed.push({ label: `${label} ping`, run: icmp(fr, to.privateIp) });
    direct.push({ label: `${label}:23 direct`, run: tcp(fr, to.privateIp, 23) });
    direct.push({ label: `${label} ping direct`, run: icmp(fr, to.privateIp) });
  }
  const reached = await tryAll(routed);
  reached.push(...(await withOnLinkRoutes(x, pairs, () => tryAll(direct))));
  const n = routed.length + direct.length;
  return {
    name:
      `13 clusters, other group: ${tag(b)} ${b.privateIp} (${b.group}, ${where(x, b)}) -> ${tag(remoteA)} ${remoteA.privateIp} (${remoteA.group}, ${where(x, remoteA)}), ` +
      `${tag(remoteB)} (${remoteB.group}, ${where(x, remoteB)}) -> #1 ${a.privateIp}: through the sender's CC, and directly (an on-link route)`,
    expected: `all ${n} dropped: through the CC tcp/22, 23, 80 and ping, but not the ports the target's group authorizes from 0.0.0.0/0 (open to every group by design); directly tcp/23 and ping`,
    observed: reached.length
      ? `reached: ${reached.join('; ')}`
      : `all ${n} dropped (${routed.length} through the CCs, ${direct.length} direct; no answer in ${DROP_MS} ms)`,
    pass: reached.length === 0,
  };
}

// 14. From euca-pub: #1's public IP answers as #1 (through cluster 1's CC), #9's as #9 (cluster 2's);
// each address is held by its own cluster's CC only; #9 going out is seen as its public IP.
export async function clusterPublic(x: Ctx): Promise<CheckRow> {
  const { a, remoteA: r } = cast(x);
  const [pa, pr] = [must(a.publicIp, "#1's public IP"), must(r.publicIp, `${tag(r)}'s public IP`)];
  const pub = x.responder(NS_PUB);
  const [ca, cr, out] = await Promise.all([pub.connect(pa, 22), pub.connect(pr, 22), x.responder(instanceNetns(r.id)).connect(PUB_IP, PEER_PORT)]);
  const held = await Promise.all(
    x.c.clusters.map(async (c) => {
      const addrs = await x.c.hosts.get(c.ccNetns).addresses.list({ dev: c.view.cc.publicInterface, family: 4 });
      return { c, has: [pa, pr].filter((ip) => addrs.some((ad) => ad.address === ip)) };
    }),
  );
  const own = (i: AllocatedInstance, ip: string) => held.every(({ c, has }) => has.includes(ip) === (c.index === x.clusterOf(i).index));
  return {
    name: `14 clusters, public: euca-pub -> ${pa}:22 (#1, ${where(x, a)}) and ${pr}:22 (${tag(r)}, ${where(x, r)}); ${tag(r)} -> euca-pub ${PUB_IP}:${PEER_PORT}`,
    expected: `"${a.id}" and "${r.id}", each address on its own cluster's CC only (${held.map(({ c }) => c.ccNetns).join(', ')}); ${tag(r)} seen as "${pr}" (SNAT on its CC)`,
    observed: `${show(ca)}, ${show(cr)}; ${held.map(({ c, has }) => `${c.ccNetns} holds ${has.join(' ') || 'neither'}`).join(', ')}; ${tag(r)} seen as ${show(out)}`,
    pass: ca.data === a.id && cr.data === r.id && own(a, pa) && own(r, pr) && out.data === pr,
  };
}

// 15. Each instance's default route (from its DHCP lease) goes to its own cluster's CC: its
// lease's router is its cluster's gateway, its default route goes through it, and a datagram
// sent to that router arrives at its own cluster's CC, not at the other.
export async function clusterGateway(x: Ctx): Promise<CheckRow> {
  const list = [...x.c.sample.values()];
  const ccs = x.c.clusters.map((c) => x.responder(c.ccNetns));
  await Promise.all(ccs.map((r) => r.received(CC_UDP_PORT)));
  const problems: string[] = [];
  const routers = new Map<string, string>();
  await Promise.all(
    list.map(async (i) => {
      const gw = gatewayOf(parseBlock('subnet', x.group(i).subnet), x.clusterOf(i).index);
      const lease = x.c.leases.get(i.id);
      const routes = await x.c.hosts.get(instanceNetns(i.id)).routes.list({ family: 4 });
      const dflt = routes.find((rt) => rt.dst === 'default');
      if (lease?.router !== gw) problems.push(`${i.id}: lease router ${lease?.router ?? '-'}, its cluster's gateway is ${gw}`);
      else if (dflt?.gateway !== gw) problems.push(`${i.id}: default route via ${dflt?.gateway ?? '-'}, lease router ${gw}`);
      else routers.set(i.id, gw);
      const sent = await x.responder(instanceNetns(i.id)).udp(gw, CC_UDP_PORT, `gw ${i.id}`);
      if (!sent.sent) problems.push(`${i.id}: could not send to ${gw}: ${sent.message ?? ''}`);
    }),
  );
  const got = x.c.clusters.map(() => [] as Array<{ from: string; data: string }>);
  const arrived = () => list.every((i) => got[x.clusterOf(i).index].some((d) => d.data === `gw ${i.id}`));
  for (let end = Date.now() + 3000; !arrived() && Date.now() < end;) {
    await sleep(100);
    const rs = await Promise.all(ccs.map((r) => r.received(CC_UDP_PORT)));
    rs.forEach((r, k) => got[k].push(...r.datagrams));
  }
  for (const i of list) {
    const at = x.c.clusters.filter((c) => got[c.index].some((d) => d.data === `gw ${i.id}` && d.from === i.privateIp)).map((c) => c.ccNetns);
    if (at.length !== 1 || at[0] !== x.clusterOf(i).ccNetns) problems.push(`${i.id}: its datagram to its router arrived at ${at.join(' and ') || 'no CC'}`);
  }
  const byCluster = x.c.clusters.map((c) => {
    const ids = list.filter((i) => x.clusterOf(i).index === c.index);
    return `${c.ccNetns}: ${ids.map((i) => `${i.id} via ${routers.get(i.id) ?? '?'}`).join(', ')}`;
  });
  return {
    name: `15 clusters, gateway: each of the ${list.length} instances' DHCP lease router and default route, and a UDP datagram to that router (:${CC_UDP_PORT})`,
    expected: `its own cluster's CC: the lease's router is the cluster's gateway in the group's block (block + 1 + cluster index), the default route goes through it, and the datagram arrives at its own CC (${x.c.clusters.map((c) => c.ccNetns).join(', ')}) only`,
    observed: problems.length ? problems.sort().join('; ') : `all ${list.length} arrived at their own CC: ${byCluster.join('; ')}`,
    pass: problems.length === 0,
  };
}
