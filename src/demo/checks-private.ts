// The checks made on the private side: the group's own network (3), group
// isolation (4), metadata (6), DHCP (7) and anti-spoofing (8).
import { readFile } from 'node:fs/promises';
import { parseLeases, type Lease as DhcpLeaseEntry } from '../dhcp/leases.js';
import { gatewayOf } from '../managed/clusters.js';
import { groupNet, parseBlock } from '../managed/net.js';
import { METADATA_IP } from '../managed/roles/names.js';
import { groupKey, type AllocatedGroup, type AllocatedInstance, type Rule } from '../managed/types.js';
import type { Responder } from './responders.js';
import { CC_PUBLIC_IP, instanceNetns, NS_CC, NS_PUB, PUB_IP } from './topology.js';
import { CC_UDP_PORT, DROP_MS, PUB_UDP_PORT, show, sleep, type CheckRow, type Ctx } from './check-context.js';

// 3. #1 reaches #5 (same group, other NC) on its private address; #1 reaches #2.
export async function sameGroup(x: Ctx): Promise<CheckRow> {
  const [a, b, e] = [x.inst(1), x.inst(2), x.inst(5)];
  const from = x.of(1);
  // 1472 bytes of ICMP payload: a full 1500-byte IP packet, which must cross the segment whole.
  const [t5, p5, t2, p2] = await Promise.all([
    from.connect(e.privateIp, 23),
    from.ping(e.privateIp, 2000, 1472),
    from.connect(b.privateIp, 23),
    from.ping(b.privateIp, 2000, 1472),
  ]);
  const echo = (p: { ok: boolean }) => (p.ok ? 'echo reply' : 'no reply');
  return {
    name: `3 same group: #1 -> #5 ${e.privateIp} (${e.node}) and #1 -> #2 ${b.privateIp} (${b.node}), tcp/23 and a full-size (1500-byte) ping`,
    expected: `"${e.id}" and echo reply; "${b.id}" and echo reply (inside a group everything is open)`,
    observed: `#5: ${show(t5)}, ${echo(p5)}; #2: ${show(t2)}, ${echo(p2)}`,
    pass: t5.data === e.id && p5.ok && t2.data === b.id && p2.ok && a.group === e.group,
  };
}

export interface Attempt {
  label: string;
  run: () => Promise<{ reached: boolean; text: string }>;
}

export const tcp =
  (from: Responder, ip: string, port: number): Attempt['run'] =>
  async () => {
    const r = await from.connect(ip, port, { timeoutMs: DROP_MS });
    return { reached: r.outcome === 'reply' || r.outcome === 'refused', text: show(r) };
  };
export const icmp =
  (from: Responder, ip: string): Attempt['run'] =>
  async () => {
    const r = await from.ping(ip, DROP_MS);
    return { reached: r.ok, text: r.ok ? 'echo reply' : 'no reply' };
  };

// 4. #1 cannot reach #3 or #7 (other group); #3 cannot reach #1. Tried
// through the CC (the instances' routes) and directly: with an on-link route
// in the sender, as an instance's owner could add, so that only the
// segmentation (or, without it, the NCs' bridge filter) stands in the way.
export async function otherGroup(x: Ctx): Promise<CheckRow> {
  const [a, c, g] = [x.inst(1), x.inst(3), x.inst(7)];
  const [ga, gc] = [x.group(a), x.group(c)];
  // The ports a group authorizes from anywhere are open to every group through
  // the CC, by design (as in Eucalyptus): through the CC, try the others.
  const open1 = openPorts(ga);
  const open3 = openPorts(gc);
  const pairs = [
    [x.of(1), '#1', c, '#3', open3],
    [x.of(1), '#1', g, '#7', open3],
    [x.of(3), '#3', a, '#1', open1],
  ] as const;
  const routed: Attempt[] = [];
  const direct: Attempt[] = [];
  for (const [from, fl, to, tl, open] of pairs) {
    for (const port of [22, 23, 80].filter((p) => !open.has(p))) routed.push({ label: `${fl}->${tl}:${port}`, run: tcp(from, to.privateIp, port) });
    routed.push({ label: `${fl}->${tl} ping`, run: icmp(from, to.privateIp) });
    direct.push({ label: `${fl}->${tl}:23 direct`, run: tcp(from, to.privateIp, 23) });
    direct.push({ label: `${fl}->${tl} ping direct`, run: icmp(from, to.privateIp) });
  }
  const reached = await tryAll(routed);
  const onLink = [
    [a, c],
    [a, g],
    [c, a],
  ] as const;
  reached.push(...(await withOnLinkRoutes(x, onLink, () => tryAll(direct))));
  const n = routed.length + direct.length;
  const rules = (grp: AllocatedGroup) => grp.rules.map((r) => ruleText(r)).join(', ') || 'none';
  return {
    name: `4 other group: #1 -> #3 ${c.privateIp} and #7 ${g.privateIp}, #3 -> #1 ${a.privateIp}: through the CC, and directly (an on-link route in the sender that bypasses the CC)`,
    expected:
      `all ${n} dropped. Through the CC: tcp/22, 23, 80 and ping, but not the ports the target's group authorizes from 0.0.0.0/0 ` +
      `(${groupKey(gc)}: ${rules(gc)}; ${groupKey(ga)}: ${rules(ga)}), open to every group by design; directly: tcp/23 and ping`,
    observed: reached.length
      ? `reached: ${reached.join('; ')}`
      : `all ${n} dropped (${routed.length} through the CC, ${direct.length} direct; no answer in ${DROP_MS} ms)`,
    pass: reached.length === 0,
  };
}

/** The tcp ports a group authorizes from anywhere: open to every group through the CC, by design (as in Eucalyptus). */
export const openPorts = (grp: AllocatedGroup): Set<number> =>
  new Set(grp.rules.flatMap((r) => (r.protocol === 'tcp' && r.from !== undefined && (r.cidr ?? '') === '0.0.0.0/0' ? range(r.from, r.to ?? r.from) : [])));

/** Runs the attempts side by side: the ones that reached their target, as "label text". */
export async function tryAll(list: Attempt[]): Promise<string[]> {
  const results = await Promise.all(list.map((t) => t.run()));
  return list.flatMap((t, k) => (results[k].reached ? [`${t.label} ${results[k].text}`] : []));
}

/**
 * Runs `fn` with an on-link route to each pair's target in its sender (as an
 * instance's owner could add), so that packets skip the CC and only the
 * segmentation stands in the way; the routes are removed afterwards.
 */
export async function withOnLinkRoutes<T>(x: Ctx, pairs: ReadonlyArray<readonly [AllocatedInstance, AllocatedInstance]>, fn: () => Promise<T>): Promise<T> {
  const links = pairs.map(([from, to]) => [x.c.hosts.get(instanceNetns(from.id)), to.privateIp] as const);
  for (const [h, ip] of links) await h.routes.add({ dst: `${ip}/32`, dev: 'eth0', scope: 'link' });
  try {
    return await fn();
  } finally {
    for (const [h, ip] of links) await h.routes.delete({ dst: `${ip}/32`, dev: 'eth0', scope: 'link' }).catch(() => undefined);
  }
}

const range = (p: number, q: number): number[] => Array.from({ length: q - p + 1 }, (_, k) => p + k);

function ruleText(r: Rule): string {
  const ports = r.from !== undefined ? `/${r.from}${r.to !== undefined && r.to !== r.from ? `-${r.to}` : ''}` : '';
  return `${r.protocol}${ports} from ${r.sourceGroup ?? r.cidr ?? '0.0.0.0/0'}`;
}

// 6. Each instance fetches its own id from the CLC through the metadata DNAT.
export async function metadata(x: Ctx): Promise<CheckRow> {
  const url = `http://${METADATA_IP}/latest/meta-data/instance-id`;
  const list = [...x.c.sample.values()];
  const results = await Promise.all(list.map((i) => x.responder(instanceNetns(i.id)).http(url)));
  const bad = list.map((i, k) => [i, results[k]] as const).filter(([i, r]) => r.data !== i.id);
  const ms = Math.max(...results.map((r) => r.ms));
  return {
    name: `6 metadata: each of the ${list.length} instances GETs ${url} (DNAT on the CC to the CLC ${x.c.state.metadata})`,
    expected: 'its own id, from the CLC',
    observed: bad.length
      ? `${list.length - bad.length}/${list.length} right; ${bad.map(([i, r]) => `${i.id} got ${show(r)}${r.status ? ` HTTP ${r.status}` : ''}`).join('; ')}`
      : `${list.length}/${list.length} got their own id (${list.map((i, k) => `${i.id}="${results[k].data}"`).join(' ')}), slowest ${ms} ms`,
    pass: bad.length === 0,
  };
}

// 7. Every instance holds a DHCP lease for its allocated address, from its own cluster's CC.
export async function dhcp(x: Ctx): Promise<CheckRow> {
  const list = [...x.c.sample.values()];
  const read = async () => {
    const byCluster = new Map<string, DhcpLeaseEntry[]>();
    for (const [name, file] of x.c.leaseFiles) byCluster.set(name, parseLeases(await readFile(file, 'utf8').catch(() => '')));
    return byCluster;
  };
  const servedOf = (m: Map<string, DhcpLeaseEntry[]>, i: AllocatedInstance) => m.get(x.clusterOf(i).name) ?? [];
  // dnsmasq writes its lease file a moment after it acknowledges.
  let served = await read();
  for (let end = Date.now() + 3000; list.some((i) => !servedOf(served, i).some((l) => l.mac === i.mac)) && Date.now() < end;) {
    await sleep(50);
    served = await read();
  }
  const problems: string[] = [];
  const seen: string[] = [];
  await Promise.all(
    list.map(async (i) => {
      const lease = x.c.leases.get(i.id);
      const gw = gatewayOf(parseBlock('subnet', x.group(i).subnet), x.clusterOf(i).index);
      const addrs = await x.c.hosts.get(instanceNetns(i.id)).addresses.list({ dev: 'eth0', family: 4 });
      const onEth0 = addrs.some((ad) => ad.address === i.privateIp);
      const inFile = servedOf(served, i).some((l) => l.mac === i.mac && l.ip === i.privateIp);
      if (!lease) problems.push(`${i.id}: no lease`);
      else if (lease.ip !== i.privateIp || lease.router !== gw)
        problems.push(`${i.id}: leased ${lease.ip} via ${lease.router ?? '-'}, allocated ${i.privateIp} via ${gw}`);
      else if (!onEth0) problems.push(`${i.id}: ${i.privateIp} not on eth0`);
      else if (!inFile) problems.push(`${i.id}: ${i.mac} ${i.privateIp} not in ${x.clusterOf(i).ccNetns}'s dnsmasq's lease file`);
      else seen.push(`${i.id} ${lease.ip}/${lease.prefix} gw ${lease.router}`);
    }),
  );
  seen.sort((p, q) => Number(p.split(' ')[0].slice(2)) - Number(q.split(' ')[0].slice(2)));
  const ccs = x.c.clusters.map((c) => c.ccNetns).join(', ');
  const many = x.c.clusters.length > 1;
  return {
    name: `7 DHCP: each of the ${list.length} instances ran a DHCP client on eth0 against ${many ? "its cluster's CC's dnsmasq" : "the CC's dnsmasq"} (${ccs})`,
    expected: `its allocated address and its group's gateway${many ? " in its cluster (the cluster's CC's address in the group's block)" : ''}, on eth0, and in dnsmasq's lease file for its MAC`,
    observed: problems.length ? problems.sort().join('; ') : `${seen.length}/${list.length}: ${seen.join(', ')}`,
    pass: problems.length === 0,
  };
}

// 8. #3 sending with #1's source address is dropped at its NC.
export async function spoofing(x: Ctx): Promise<CheckRow> {
  const [a, c] = [x.inst(1), x.inst(3)];
  const gw = groupNet(x.group(c)).gateway;
  const h = x.c.hosts.get(instanceNetns(c.id));
  const cc = x.responder(NS_CC);
  const pub = x.responder(NS_PUB);
  await Promise.all([cc.received(CC_UDP_PORT), pub.received(PUB_UDP_PORT)]);
  // #1's address as a second address on #3's eth0, so #3 can bind to it.
  await h.addresses.add({ dev: 'eth0', address: `${a.privateIp}/32` });
  try {
    const from3 = x.of(3);
    const sends = await Promise.all([
      from3.udp(gw, CC_UDP_PORT, 'control', c.privateIp),
      from3.udp(PUB_IP, PUB_UDP_PORT, 'control', c.privateIp),
      from3.udp(gw, CC_UDP_PORT, 'spoofed', a.privateIp),
      from3.udp(PUB_IP, PUB_UDP_PORT, 'spoofed', a.privateIp),
    ]);
    const unsent = sends.filter((s) => !s.sent);
    if (unsent.length) throw new Error(`could not send: ${unsent.map((s) => s.message).join('; ')}`);
    let atCc: Array<{ from: string; data: string }> = [];
    let atPub: Array<{ from: string; data: string }> = [];
    // Wait for the two control datagrams, then a little longer for anything spoofed.
    for (let end = Date.now() + 3000; Date.now() < end;) {
      await sleep(100);
      atCc = atCc.concat((await cc.received(CC_UDP_PORT)).datagrams);
      atPub = atPub.concat((await pub.received(PUB_UDP_PORT)).datagrams);
      if (atCc.some((d) => d.data === 'control') && atPub.some((d) => d.data === 'control')) break;
    }
    await sleep(300);
    atCc = atCc.concat((await cc.received(CC_UDP_PORT)).datagrams);
    atPub = atPub.concat((await pub.received(PUB_UDP_PORT)).datagrams);
    const list = (ds: typeof atCc) => (ds.length ? ds.map((d) => `"${d.data}" from ${d.from}`).join(', ') : 'nothing');
    const controlOk = atCc.some((d) => d.data === 'control' && d.from === c.privateIp) && atPub.some((d) => d.data === 'control' && d.from === CC_PUBLIC_IP);
    const spoofed = [...atCc, ...atPub].filter((d) => d.data === 'spoofed');
    return {
      name:
        `8 spoofing: #3 (${c.node} ${c.port}) sends UDP from #1's address ${a.privateIp} to the CC (${gw}:${CC_UDP_PORT}) and to euca-pub ` +
        `(${PUB_IP}:${PUB_UDP_PORT}, where the CC would SNAT it to #1's ${a.publicIp}), and the same from its own ${c.privateIp}`,
      expected: `the spoofed datagrams dropped at ${c.node}'s bridge (table bridge eucanet-nc, the only filter on the way to the CC); the control ones arrive (CC from ${c.privateIp}, euca-pub from ${CC_PUBLIC_IP})`,
      observed: `CC got ${list(atCc)}; euca-pub got ${list(atPub)}`,
      pass: controlOk && spoofed.length === 0,
    };
  } finally {
    await h.addresses.delete({ dev: 'eth0', address: `${a.privateIp}/32` });
  }
}
