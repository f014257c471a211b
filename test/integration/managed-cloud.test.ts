// The MANAGED cloud through ManagedCloud, proved with real packets (issue 5,
// "Tests"). Each describe builds its own throw-away cloud in namespaces with
// unique names (test/helpers/cloud-topology.ts: a public client, the CLC, the
// CC, a switch, two NCs, instance namespaces joined to their NC by veth), the
// state being examples/seed.json with fewer instances and segmentation vxlan
// (this kernel has no 802.1Q), or none for the MANAGED-NOVLAN variant. The
// instances get their addresses by DHCP from the CC's dnsmasq; the demo's
// agents serve and probe from inside the namespaces. Everything is removed
// afterwards, also when a test fails.
//
// "Dropped" is a connection or ping without an answer within DROP_MS; every
// such check has a positive counterpart on the same path that must answer
// with the expected instance id.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseLeases } from '../../src/dhcp/leases.js';
import { allocate, nextPublicIp } from '../../src/managed/allocate.js';
import { ManagedCloud } from '../../src/managed/cloud.js';
import { groupNet } from '../../src/managed/net.js';
import { METADATA_IP } from '../../src/managed/roles/names.js';
import { loadState } from '../../src/managed/statefile.js';
import type { AllocatedInstance, Instance, Rule, State } from '../../src/managed/types.js';
import type { ConnectResult } from '../helpers/responders.js';
import { CC_PUBLIC_IP, CloudTopology, PUB_IP } from '../helpers/cloud-topology.js';
import { runDhcpClient, type DhcpLease } from '../helpers/dhcp-client.js';
import { isRoot, nftRuleset, nsExec, ipLinks } from '../helpers/netns.js';

if (!isRoot) console.warn('test/integration/managed-cloud.test.ts: skipped, needs root');

const SEED = fileURLToPath(new URL('../../examples/seed.json', import.meta.url));

/** How long an unanswered connection or ping waits before it counts as dropped. */
const DROP_MS = 1000;
/** How long a connection that must answer may take (generous: the machine may be busy). */
const OK_MS = 3000;
/** Agent ports: instances' banners (answer with the id and close) and UDP sinks. */
const BANNERS = [22, 23, 5000];
const PEER_PORT = 7000; // pub: answers with the source address it sees
const PUB_UDP = 7001;
const CC_UDP = 7002;
const INST_UDP = 7003;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The seed, with only the instances named, the segmentation given. */
async function seedState(segmentation: 'vxlan' | 'none', ids: string[], keepPublic = true): Promise<State> {
  const { state } = await loadState(SEED);
  const s = structuredClone<State>(state);
  s.segmentation = segmentation;
  s.mode = segmentation === 'none' ? 'MANAGED-NOVLAN' : 'MANAGED';
  s.instances = (s.instances ?? [])
    .filter((i) => ids.includes(i.id))
    .map((i) => {
      const out = { ...i };
      if (!keepPublic) delete out.publicIp;
      return out;
    });
  return s;
}

const show = (r: ConnectResult) => `${r.outcome}${r.data !== undefined ? ` "${r.data}"` : ''}${r.message ? ` ${r.message}` : ''} in ${r.ms} ms`;

/** The elements of map `name` in table ip eucanet, from `nft -j list ruleset`. */
function mapElements(ns: string, name: string): string {
  const m = nftRuleset(ns).find((o) => o.map?.table === 'eucanet' && o.map?.name === name);
  if (!m) throw new Error(`no map ${name} in ${ns}`);
  return JSON.stringify(m.map.elem ?? []);
}

function setElements(ns: string, table: string, name: string): string {
  const s = nftRuleset(ns).find((o) => o.set?.table === table && o.set?.name === name);
  if (!s) throw new Error(`no set ${name} in ${ns}`);
  return JSON.stringify(s.set.elem ?? []);
}

/** The IPv4 addresses on `dev` in `ns`, as "a.b.c.d/len", from `ip -j addr`. */
function addrsOf(ns: string, dev: string): string[] {
  const out = JSON.parse(nsExec(ns, 'ip', ['-j', '-4', 'addr', 'show', 'dev', dev])) as Array<{ addr_info: Array<{ local: string; prefixlen: number }> }>;
  return out.flatMap((l) => l.addr_info.map((a) => `${a.local}/${a.prefixlen}`));
}

describe.skipIf(!isRoot)('ManagedCloud, MANAGED with VXLAN segments, real packets (root)', () => {
  const topo = new CloudTopology('eumc');
  let cloud: ManagedCloud;
  const leases = new Map<string, DhcpLease>();

  const inst = (id: string): AllocatedInstance => {
    const i = cloud.state.instances.find((x) => x.id === id);
    if (!i) throw new Error(`no instance ${id} in the state`);
    return i;
  };
  const gatewayOf = (i: AllocatedInstance) => groupNet(cloud.state.groups.find((g) => `${g.owner}/${g.name}` === i.group)!).gateway;
  const of = (id: string) => topo.agent(topo.inst(id));
  const pub = () => topo.agent(topo.pub);
  const metadataMap = () => Object.fromEntries(cloud.state.instances.map((i) => [i.privateIp, i.id]));
  const startInstanceAgent = (id: string) => topo.startAgent(topo.inst(id), { id, banner: BANNERS, http: [80], udp: [INST_UDP] });

  beforeAll(async () => {
    try {
      // admin/default: i-1 (.200), i-2 (.201) on nc1, i-5 on nc2 (no public IP); admin/web: i-3 on nc1.
      const doc = await seedState('vxlan', ['i-1', 'i-2', 'i-3', 'i-5']);
      cloud = new ManagedCloud(doc, [
        { role: { role: 'cc' }, netns: topo.cc },
        { role: { role: 'nc', node: 'nc1' }, netns: topo.nc('nc1') },
        { role: { role: 'nc', node: 'nc2' }, netns: topo.nc('nc2') },
      ]);
      await topo.build(cloud.state, cloud.state.instances);
      const clc = Number(cloud.state.metadata!.split(':')[1]);
      const agents = Promise.all([
        topo.startAgent(topo.pub, { peer: PEER_PORT, udp: [PUB_UDP] }),
        topo.startAgent(topo.clc, { metadata: clc }),
        topo.startAgent(topo.cc, { udp: [CC_UDP] }),
        ...cloud.state.instances.map((i) => startInstanceAgent(i.id)),
      ]);
      await Promise.all([cloud.apply(), agents]);
      await topo.agent(topo.clc).metadata(metadataMap());
      const got = await Promise.all(cloud.state.instances.map((i) => runDhcpClient(topo.inst(i.id), 'eth0', { attempts: 8 })));
      cloud.state.instances.forEach((i, k) => leases.set(i.id, got[k]));
    } catch (err) {
      await topo.teardown().catch(() => undefined);
      throw err;
    }
  }, 60_000);

  afterAll(async () => {
    await topo.teardown();
  }, 30_000);

  it('DHCP: each instance holds the lease of its allocated address, from the CC', async () => {
    const leaseFile = topo.dhcpPaths.leases;
    let served = parseLeases(await readFile(leaseFile, 'utf8').catch(() => ''));
    // dnsmasq writes its lease file a moment after it acknowledges.
    for (let end = Date.now() + 3000; cloud.state.instances.some((i) => !served.some((l) => l.mac === i.mac)) && Date.now() < end;) {
      await sleep(50);
      served = parseLeases(await readFile(leaseFile, 'utf8').catch(() => ''));
    }
    for (const i of cloud.state.instances) {
      const l = leases.get(i.id)!;
      const net = groupNet(cloud.state.groups.find((g) => `${g.owner}/${g.name}` === i.group)!);
      expect({ id: i.id, ip: l.ip, prefix: l.prefix, router: l.router }).toEqual({ id: i.id, ip: i.privateIp, prefix: net.prefix, router: net.gateway });
      expect(addrsOf(topo.inst(i.id), 'eth0')).toEqual([`${i.privateIp}/${net.prefix}`]);
      expect(
        served.filter((x) => x.mac === i.mac).map((x) => x.ip),
        `${i.id} in ${leaseFile}`,
      ).toEqual([i.privateIp]);
    }
  });

  it('metadata: each instance GETs its own id from 169.254.169.254 (DNAT to the CLC)', async () => {
    const url = `http://${METADATA_IP}/latest/meta-data/instance-id`;
    const ids = cloud.state.instances.map((i) => i.id);
    const got = await Promise.all(ids.map((id) => of(id).http(url)));
    expect(got.map((r) => [r.status, r.data])).toEqual(ids.map((id) => [200, id]));
  });

  it('DNAT and SNAT: pub reaches public IPs; instances go out with their public IP, or masqueraded', async () => {
    const [i1, i2, i5] = [inst('i-1'), inst('i-2'), inst('i-5')];
    expect([i1.publicIp, i2.publicIp, i5.publicIp]).toEqual(['192.168.32.200', '192.168.32.201', undefined]);
    const [d1, d2, s1, s2, s5] = await Promise.all([
      pub().connect(i1.publicIp!, 22, { timeoutMs: OK_MS }),
      pub().connect(i2.publicIp!, 22, { timeoutMs: OK_MS }),
      of('i-1').connect(PUB_IP, PEER_PORT, { timeoutMs: OK_MS }),
      of('i-2').connect(PUB_IP, PEER_PORT, { timeoutMs: OK_MS }),
      of('i-5').connect(PUB_IP, PEER_PORT, { timeoutMs: OK_MS }),
    ]);
    expect(d1.data, show(d1)).toBe('i-1');
    expect(d2.data, show(d2)).toBe('i-2');
    expect(s1.data, show(s1)).toBe(i1.publicIp);
    expect(s2.data, show(s2)).toBe(i2.publicIp);
    expect(s5.data, show(s5)).toBe(CC_PUBLIC_IP);
  });

  it('ingress rules: the allowed port is open, others dropped; an icmp rule opens ping, its revoke closes it', async () => {
    const ip = inst('i-1').publicIp!;
    const [ssh, telnet, p5000, web] = await Promise.all([
      pub().connect(ip, 22, { timeoutMs: OK_MS }),
      pub().connect(ip, 23, { timeoutMs: DROP_MS }),
      pub().connect(ip, 5000, { timeoutMs: DROP_MS }),
      pub().http(`http://${ip}/`, DROP_MS),
    ]);
    expect(ssh.data, show(ssh)).toBe('i-1');
    expect(telnet.outcome, show(telnet)).toBe('timeout');
    expect(p5000.outcome, show(p5000)).toBe('timeout');
    expect(web.outcome, show(web)).toBe('timeout');

    const echo: Rule = { protocol: 'icmp', icmpType: 8, icmpCode: -1, cidr: '0.0.0.0/0' };
    const before = await pub().ping(ip, DROP_MS);
    expect(before.ok, `ping before authorize: ${before.output}`).toBe(false);
    await cloud.authorize('admin/default', echo);
    let authorized = true;
    try {
      const open = await pub().ping(ip, DROP_MS);
      expect(open.ok, `ping after authorize: ${open.output}`).toBe(true);
      await cloud.revoke('admin/default', echo);
      authorized = false;
      const closed = await pub().ping(ip, DROP_MS);
      expect(closed.ok, `ping after revoke: ${closed.output}`).toBe(false);
    } finally {
      if (authorized) await cloud.revoke('admin/default', echo);
    }
  });

  it('source-group rule: tcp/5000 on admin/web from admin/default opens it to that group only', async () => {
    const i3 = inst('i-3');
    const rule: Rule = { protocol: 'tcp', from: 5000, to: 5000, sourceGroup: 'admin/default' };
    // pub reaches the private network through the CC (as a host routed to it would), so only the CC's firewall decides.
    const pubH = topo.hosts.get(topo.pub);
    const route = { dst: cloud.state.subnet, gateway: CC_PUBLIC_IP };
    await pubH.routes.add(route);
    let authorized = false;
    try {
      const [before5, beforePub] = await Promise.all([
        of('i-5').connect(i3.privateIp, 5000, { timeoutMs: DROP_MS }),
        pub().connect(i3.privateIp, 5000, { timeoutMs: DROP_MS }),
      ]);
      expect(before5.outcome, `i-5 -> i-3:5000 before: ${show(before5)}`).toBe('timeout');
      expect(beforePub.outcome, `pub -> i-3:5000 before: ${show(beforePub)}`).toBe('timeout');
      await cloud.authorize('admin/web', rule);
      authorized = true;
      const [from5, from1, fromPub, pubWeb] = await Promise.all([
        of('i-5').connect(i3.privateIp, 5000, { timeoutMs: OK_MS }),
        of('i-1').connect(i3.privateIp, 5000, { timeoutMs: OK_MS }),
        pub().connect(i3.privateIp, 5000, { timeoutMs: DROP_MS }),
        pub().http(`http://${i3.privateIp}/`),
      ]);
      expect(from5.data, `i-5 (nc2) -> i-3:5000: ${show(from5)}`).toBe('i-3');
      expect(from1.data, `i-1 (nc1) -> i-3:5000: ${show(from1)}`).toBe('i-3');
      expect(fromPub.outcome, `pub -> i-3:5000: ${show(fromPub)}`).toBe('timeout');
      // The route works: tcp/80 is open to 0.0.0.0/0 on admin/web.
      expect(pubWeb.data, `pub -> i-3:80: ${show(pubWeb)}`).toBe('i-3');
    } finally {
      if (authorized) await cloud.revoke('admin/web', rule);
      await pubH.routes.delete(route);
    }
  });

  it('group isolation: admin/default cannot reach admin/web on ports not authorized, through the CC or directly', async () => {
    const [i1, i3, i5] = [inst('i-1'), inst('i-3'), inst('i-5')];
    const [same2, same5] = await Promise.all([of('i-1').connect(inst('i-2').privateIp, 23), of('i-1').connect(i5.privateIp, 23, { timeoutMs: OK_MS })]);
    expect(same2.data, `i-1 -> i-2:23 (same group, same NC): ${show(same2)}`).toBe('i-2');
    expect(same5.data, `i-1 -> i-5:23 (same group, other NC): ${show(same5)}`).toBe('i-5');
    const routed = await Promise.all([
      of('i-1').connect(i3.privateIp, 23, { timeoutMs: DROP_MS }),
      of('i-5').connect(i3.privateIp, 23, { timeoutMs: DROP_MS }),
      of('i-5').connect(i3.privateIp, 5000, { timeoutMs: DROP_MS }),
      of('i-3').connect(i1.privateIp, 23, { timeoutMs: DROP_MS }),
    ]);
    const pings = await Promise.all([of('i-1').ping(i3.privateIp, DROP_MS), of('i-3').ping(i5.privateIp, DROP_MS)]);
    expect(
      routed.map((r) => r.outcome),
      routed.map(show).join('; '),
    ).toEqual(['timeout', 'timeout', 'timeout', 'timeout']);
    expect(
      pings.map((p) => p.ok),
      pings.map((p) => p.output).join('; '),
    ).toEqual([false, false]);
    // Directly: an on-link route in i-1 that bypasses the CC; only the segmentation stands in the way.
    const h1 = topo.hosts.get(topo.inst('i-1'));
    const direct = { dst: `${i3.privateIp}/32`, dev: 'eth0', scope: 'link' as const };
    await h1.routes.add(direct);
    try {
      const [t, p] = await Promise.all([of('i-1').connect(i3.privateIp, 22, { timeoutMs: DROP_MS }), of('i-1').ping(i3.privateIp, DROP_MS)]);
      expect(t.outcome, `i-1 -> i-3:22 direct: ${show(t)}`).toBe('timeout');
      expect(p.ok, `i-1 ping i-3 direct: ${p.output}`).toBe(false);
    } finally {
      await h1.routes.delete(direct);
    }
  });

  it("anti-spoofing: an instance sending from another instance's address is dropped at its NC", async () => {
    const [i1, i2, i5] = [inst('i-1'), inst('i-2'), inst('i-5')];
    expect([i1.group, i1.node]).toEqual([i2.group, i2.node]);
    const gw = gatewayOf(i2);
    const cc = topo.agent(topo.cc);
    const sink5 = of('i-5');
    await Promise.all([cc.received(CC_UDP), pub().received(PUB_UDP), sink5.received(INST_UDP)]);
    // i-1's address as a second address on i-2's eth0, so i-2 can send from it; i-2 neither
    // answers ARP for it (arp_ignore 2: a /32 holds no asker) nor asks from it (arp_announce 2),
    // so no neighbour table learns the wrong MAC for i-1.
    const h2 = topo.hosts.get(topo.inst('i-2'));
    const spoof = { dev: 'eth0', address: `${i1.privateIp}/32` };
    await h2.transaction().setSysctl('net.ipv4.conf.all.arp_ignore', 2).setSysctl('net.ipv4.conf.all.arp_announce', 2).addAddress(spoof).commit();
    try {
      const from2 = of('i-2');
      const sends = await Promise.all(
        [i2.privateIp, i1.privateIp].flatMap((src) => {
          const data = src === i2.privateIp ? 'control' : 'spoofed';
          return [from2.udp(gw, CC_UDP, data, src), from2.udp(PUB_IP, PUB_UDP, data, src), from2.udp(i5.privateIp, INST_UDP, data, src)];
        }),
      );
      expect(sends.filter((s) => !s.sent)).toEqual([]);
      const got = { cc: [] as string[], pub: [] as string[], i5: [] as string[] };
      const collect = async () => {
        const [a, b, c] = await Promise.all([cc.received(CC_UDP), pub().received(PUB_UDP), sink5.received(INST_UDP)]);
        got.cc.push(...a.datagrams.map((d) => `${d.data} from ${d.from}`));
        got.pub.push(...b.datagrams.map((d) => `${d.data} from ${d.from}`));
        got.i5.push(...c.datagrams.map((d) => `${d.data} from ${d.from}`));
      };
      for (let end = Date.now() + 3000; Date.now() < end && !Object.values(got).every((g) => g.some((d) => d.startsWith('control')));) {
        await sleep(100);
        await collect();
      }
      await sleep(300);
      await collect();
      expect(got).toEqual({
        cc: [`control from ${i2.privateIp}`],
        pub: [`control from ${i2.publicIp}`],
        i5: [`control from ${i2.privateIp}`],
      });
    } finally {
      await h2.transaction().deleteAddress(spoof).setSysctl('net.ipv4.conf.all.arp_ignore', 0).setSysctl('net.ipv4.conf.all.arp_announce', 0).commit();
    }
  });

  it('revoke cuts access at once; authorize restores it', async () => {
    const i1 = inst('i-1');
    const ssh: Rule = { protocol: 'tcp', from: 22, to: 22, cidr: '0.0.0.0/0' };
    const before = await pub().connect(i1.publicIp!, 22, { timeoutMs: OK_MS });
    expect(before.data, show(before)).toBe('i-1');
    await cloud.revoke('admin/default', ssh);
    let revoked = true;
    try {
      const cut = await pub().connect(i1.publicIp!, 22, { timeoutMs: DROP_MS });
      expect(cut.outcome, `right after revoke: ${show(cut)}`).toBe('timeout');
      await cloud.authorize('admin/default', ssh);
      revoked = false;
      const back = await pub().connect(i1.publicIp!, 22, { timeoutMs: OK_MS });
      expect(back.data, `after authorize: ${show(back)}`).toBe('i-1');
    } finally {
      if (revoked) await cloud.authorize('admin/default', ssh);
    }
  });

  it('address operations: allocate, associate (reachable), disassociate (not), release (back in the pool)', async () => {
    const i3 = inst('i-3');
    expect(i3.publicIp).toBeUndefined();
    const ip = await cloud.allocateAddress();
    expect(ip).toBe('192.168.32.202');
    expect(cloud.state.reservedIps).toEqual([ip]);
    expect(addrsOf(topo.cc, 'eth0')).not.toContain(`${ip}/32`);
    await cloud.associateAddress(ip, 'i-3');
    expect(inst('i-3').publicIp).toBe(ip);
    expect(cloud.state.reservedIps ?? []).toEqual([]);
    expect(addrsOf(topo.cc, 'eth0')).toContain(`${ip}/32`);
    const [web, out] = await Promise.all([pub().http(`http://${ip}/`), of('i-3').connect(PUB_IP, PEER_PORT, { timeoutMs: OK_MS })]);
    expect(web.data, `pub -> ${ip}:80 associated: ${show(web)}`).toBe('i-3');
    expect(out.data, `i-3 going out, associated: ${show(out)}`).toBe(ip);

    expect(await cloud.disassociateAddress('i-3')).toBe(ip);
    expect(inst('i-3').publicIp).toBeUndefined();
    expect(cloud.state.reservedIps).toEqual([ip]);
    expect(addrsOf(topo.cc, 'eth0')).not.toContain(`${ip}/32`);
    expect(mapElements(topo.cc, 'pub2priv')).not.toContain(`"${ip}"`);
    const [gone, masq] = await Promise.all([pub().http(`http://${ip}/`, DROP_MS), of('i-3').connect(PUB_IP, PEER_PORT, { timeoutMs: OK_MS })]);
    expect(gone.outcome, `pub -> ${ip}:80 disassociated: ${show(gone)}`).not.toBe('reply');
    expect(masq.data, `i-3 going out, disassociated: ${show(masq)}`).toBe(CC_PUBLIC_IP);

    await cloud.releaseAddress(ip);
    expect(cloud.state.reservedIps ?? []).toEqual([]);
    expect(nextPublicIp(cloud.state as unknown as State)).toBe(ip);
  });

  it('terminate frees the address; a new instance gets it back, its lease, and is reachable', async () => {
    const i1 = inst('i-1');
    const nc1 = topo.nc('nc1');
    const port = () => ipLinks(nc1).find((l) => l.ifname === i1.port)!;
    const hosts = () => readFile(topo.dhcpPaths.hosts, 'utf8');
    expect(port().master).toBe('eucabr10');
    expect(addrsOf(topo.cc, 'eth0')).toContain(`${i1.publicIp}/32`);
    expect(mapElements(topo.cc, 'pub2priv')).toContain(`"${i1.publicIp}"`);
    expect(await hosts()).toContain(`${i1.mac},${i1.privateIp},i-1`);

    await cloud.terminateInstance('i-1');
    expect(cloud.state.instances.map((i) => i.id)).not.toContain('i-1');
    // The port was the hypervisor's (a veth), not eucanet's: released from the bridge, not deleted.
    expect(port().master, JSON.stringify(port())).toBeUndefined();
    expect(setElements(nc1, 'eucanet-nc', 'ports')).not.toContain(`"${i1.port}"`);
    expect(addrsOf(topo.cc, 'eth0')).not.toContain(`${i1.publicIp}/32`);
    for (const m of ['pub2priv', 'priv2pub']) {
      const el = mapElements(topo.cc, m);
      expect(el, m).not.toContain(`"${i1.publicIp}"`);
      expect(el, m).not.toContain(`"${i1.privateIp}"`);
    }
    const h = await hosts();
    expect(h).not.toContain(i1.mac);
    expect(h).not.toMatch(/,i-1\b/);
    const cut = await pub().connect(i1.publicIp!, 22, { timeoutMs: DROP_MS });
    expect(cut.outcome, `pub -> ${i1.publicIp}:22 after terminate: ${show(cut)}`).not.toBe('reply');
    await topo.removeInstance(i1);

    // The hypervisor makes the new VM's port before the NC attaches it: where the allocation puts it.
    const spec: Instance = { id: 'i-9', group: 'admin/default', node: 'nc1', publicIp: true };
    const predicted = allocate({ ...(cloud.state as unknown as State), instances: [...cloud.state.instances, spec] }).instances.find((i) => i.id === 'i-9')!;
    await topo.addInstance(predicted);
    const i9 = await cloud.runInstance(spec);
    expect(i9).toEqual(predicted);
    expect(i9.publicIp, 'the lowest free public address').toBe(i1.publicIp);
    expect(port().master).toBe('eucabr10');
    expect(await hosts()).toContain(`${i9.mac},${i9.privateIp},i-9`);
    const lease = await runDhcpClient(topo.inst('i-9'), 'eth0', { attempts: 8 });
    expect(lease.ip).toBe(i9.privateIp);
    await startInstanceAgent('i-9');
    await topo.agent(topo.clc).metadata(metadataMap());
    const [ssh, md, out] = await Promise.all([
      pub().connect(i9.publicIp!, 22, { timeoutMs: OK_MS }),
      of('i-9').http(`http://${METADATA_IP}/latest/meta-data/instance-id`),
      of('i-9').connect(PUB_IP, PEER_PORT, { timeoutMs: OK_MS }),
    ]);
    expect(ssh.data, show(ssh)).toBe('i-9');
    expect(md.data, show(md)).toBe('i-9');
    expect(out.data, show(out)).toBe(i9.publicIp);
  });
});

describe.skipIf(!isRoot)('ManagedCloud, MANAGED-NOVLAN (one bridge eucabr0), real packets (root)', () => {
  const topo = new CloudTopology('eumn');
  let cloud: ManagedCloud;

  const inst = (id: string): AllocatedInstance => cloud.state.instances.find((x) => x.id === id)!;
  const of = (id: string) => topo.agent(topo.inst(id));

  beforeAll(async () => {
    try {
      // admin/default: i-1 on nc1, i-5 on nc2; admin/web: i-3 on nc1. No public side.
      const doc = await seedState('none', ['i-1', 'i-3', 'i-5'], false);
      cloud = new ManagedCloud(doc, [
        { role: { role: 'cc' }, netns: topo.cc },
        { role: { role: 'nc', node: 'nc1' }, netns: topo.nc('nc1') },
        { role: { role: 'nc', node: 'nc2' }, netns: topo.nc('nc2') },
      ]);
      await topo.build(cloud.state, cloud.state.instances, { public: false });
      await Promise.all([cloud.apply(), ...cloud.state.instances.map((i) => topo.startAgent(topo.inst(i.id), { id: i.id, banner: BANNERS, http: [80] }))]);
      const got = await Promise.all(cloud.state.instances.map((i) => runDhcpClient(topo.inst(i.id), 'eth0', { attempts: 8 })));
      expect(got.map((l) => l.ip)).toEqual(cloud.state.instances.map((i) => i.privateIp));
    } catch (err) {
      await topo.teardown().catch(() => undefined);
      throw err;
    }
  }, 60_000);

  afterAll(async () => {
    await topo.teardown();
  }, 30_000);

  it('one bridge eucabr0 on every host, the private NIC in it, no segment devices', () => {
    for (const ns of [topo.cc, topo.nc('nc1'), topo.nc('nc2')]) {
      const links = ipLinks(ns);
      expect(
        links.filter((l) => l.linkinfo?.info_kind === 'bridge').map((l) => l.ifname),
        ns,
      ).toEqual(['eucabr0']);
      expect(
        links.filter((l) => ['vlan', 'vxlan'].includes(l.linkinfo?.info_kind)),
        ns,
      ).toEqual([]);
    }
    expect(
      ipLinks(topo.nc('nc1'))
        .filter((l) => l.master === 'eucabr0')
        .map((l) => l.ifname)
        .sort(),
    ).toEqual(['eth0', inst('i-1').port, inst('i-3').port].sort());
  });

  it('same group on different NCs talk; different groups on one NC cannot, even directly', async () => {
    const [i1, i3, i5] = [inst('i-1'), inst('i-3'), inst('i-5')];
    const [t15, p15, t51] = await Promise.all([
      of('i-1').connect(i5.privateIp, 23, { timeoutMs: OK_MS }),
      of('i-1').ping(i5.privateIp, 2000),
      of('i-5').connect(i1.privateIp, 23, { timeoutMs: OK_MS }),
    ]);
    expect(t15.data, `i-1 -> i-5:23: ${show(t15)}`).toBe('i-5');
    expect(p15.ok, `i-1 ping i-5: ${p15.output}`).toBe(true);
    expect(t51.data, `i-5 -> i-1:23: ${show(t51)}`).toBe('i-1');

    // Through the CC (the instances' default routes): admin/web's tcp/80 from 0.0.0.0/0 is open
    // (twice: the CC routes back out of the bridge the packet came in by, and a redirect it
    // sends must not divert the second connection onto the direct path); tcp/23 is dropped.
    for (const k of [1, 2]) {
      const web = await of('i-1').http(`http://${i3.privateIp}/`, OK_MS);
      expect(web.data, `i-1 -> i-3:80 through the CC (${k}): ${show(web)}`).toBe('i-3');
    }
    const routed = await Promise.all([
      of('i-1').connect(i3.privateIp, 23, { timeoutMs: DROP_MS }),
      of('i-3').connect(i1.privateIp, 23, { timeoutMs: DROP_MS }),
    ]);
    expect(
      routed.map((r) => r.outcome),
      routed.map(show).join('; '),
    ).toEqual(['timeout', 'timeout']);

    // Directly over the shared bridge, with on-link routes that bypass the CC: the NCs' bridge filter.
    const links = [
      [topo.hosts.get(topo.inst('i-1')), i3.privateIp],
      [topo.hosts.get(topo.inst('i-3')), i1.privateIp],
      [topo.hosts.get(topo.inst('i-5')), i3.privateIp],
    ] as const;
    for (const [h, ip] of links) await h.routes.add({ dst: `${ip}/32`, dev: 'eth0', scope: 'link' });
    try {
      const direct = await Promise.all([
        of('i-1').connect(i3.privateIp, 23, { timeoutMs: DROP_MS }),
        of('i-3').connect(i1.privateIp, 23, { timeoutMs: DROP_MS }),
        of('i-5').connect(i3.privateIp, 23, { timeoutMs: DROP_MS }),
      ]);
      const pings = await Promise.all([of('i-1').ping(i3.privateIp, DROP_MS), of('i-5').ping(i3.privateIp, DROP_MS)]);
      expect(
        direct.map((r) => r.outcome),
        direct.map(show).join('; '),
      ).toEqual(['timeout', 'timeout', 'timeout']);
      expect(
        pings.map((p) => p.ok),
        pings.map((p) => p.output).join('; '),
      ).toEqual([false, false]);
    } finally {
      for (const [h, ip] of links) await h.routes.delete({ dst: `${ip}/32`, dev: 'eth0', scope: 'link' }).catch(() => undefined);
    }
  });
});
