// The cluster controller's conntrack step, proved with packets (issue 15): a
// public address moved from one instance to another while a UDP stream, a TCP
// connection and the old owner's outbound stream run through it. Over the
// cloud topology (test/helpers/cloud-topology.ts, unique names), the seed
// with i-1 (.200) and i-2 (.201) on nc1, i-5 (no public address) on nc2.
// Instances get their addresses statically (DHCP is another test's subject).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listConntrack, type CtEntry } from '../../src/conntrack/index.js';
import { open } from '../../src/handle.js';
import { allocate } from '../../src/managed/allocate.js';
import { applyRole } from '../../src/managed/apply.js';
import { ManagedCloud } from '../../src/managed/cloud.js';
import { groupNet } from '../../src/managed/net.js';
import { ownerNames } from '../../src/managed/ownership.js';
import { planRole, roleScope } from '../../src/managed/roles/index.js';
import { loadState } from '../../src/managed/statefile.js';
import type { AllocatedState, State } from '../../src/managed/types.js';
import { reconcile } from '../../src/tx/reconcile.js';
import { CC_PUBLIC_IP, CloudTopology, PUB_IP } from '../helpers/cloud-topology.js';
import { eucanet } from '../helpers/cli.js';
import { Flow } from '../helpers/flows.js';
import { isRoot, nsExec } from '../helpers/netns.js';
import { parseExtended } from '../fixtures/conntrack/fixtures.js';

const SEED = fileURLToPath(new URL('../../examples/seed.json', import.meta.url));
const P = '192.168.32.200';
const P2 = '192.168.32.201';
const UDP = 5005;
const TCP = 5006;
const PEER = 5007;

/** The seed with i-1, i-2, i-5, segmentation vxlan, and admin/default open to udp/5005 and tcp/5006. */
async function doc(): Promise<State> {
  const { state } = await loadState(SEED);
  const s = structuredClone<State>(state);
  s.segmentation = 'vxlan';
  s.instances = (s.instances ?? []).filter((i) => ['i-1', 'i-2', 'i-5'].includes(i.id));
  const g = (s.groups ?? []).find((x) => x.name === 'default')!;
  g.rules = [...(g.rules ?? []), { protocol: 'udp', from: UDP, to: UDP, cidr: '0.0.0.0/0' }, { protocol: 'tcp', from: TCP, to: TCP, cidr: '0.0.0.0/0' }];
  return s;
}

/** `d` with .200 on `to` instead of whoever has it. */
function moved(d: State, to: string): AllocatedState {
  const next = structuredClone(d);
  for (const i of next.instances ?? []) {
    if (i.publicIp === P) delete i.publicIp;
    if (i.id === to) i.publicIp = P;
  }
  return allocate(next);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!isRoot)('conntrack on the cluster controller: a public address that moves, with packets (root)', () => {
  const topo = new CloudTopology('euct');
  let cloud: ManagedCloud;
  let base: State;
  const flows: Record<string, Flow> = {};
  const cc = () => topo.hosts.get(topo.cc);
  const oracle = () => parseExtended(nsExec(topo.cc, 'conntrack', ['-L', '-o', 'extended,id']));
  const unrelated = (l: CtEntry[]) => l.filter((e) => e.orig.dst === P2 || e.orig.src === cloud.state.instances.find((i) => i.id === 'i-2')!.privateIp);

  beforeAll(async () => {
    try {
      base = await doc();
      cloud = new ManagedCloud(base, [
        { role: { role: 'cc' }, netns: topo.cc },
        { role: { role: 'nc', node: 'nc1' }, netns: topo.nc('nc1') },
        { role: { role: 'nc', node: 'nc2' }, netns: topo.nc('nc2') },
      ]);
      await topo.build(cloud.state, cloud.state.instances);
      await cloud.apply();
      for (const i of cloud.state.instances) {
        const net = groupNet(cloud.state.groups.find((g) => `${g.owner}/${g.name}` === i.group)!);
        nsExec(topo.inst(i.id), 'ip', ['addr', 'add', `${i.privateIp}/${net.prefix}`, 'dev', 'eth0']);
        nsExec(topo.inst(i.id), 'ip', ['route', 'add', 'default', 'via', net.gateway]);
        flows[`${i.id}-udp`] = await Flow.start(topo.inst(i.id), 'udp-echo', [UDP, i.id]);
        flows[`${i.id}-tcp`] = await Flow.start(topo.inst(i.id), 'tcp-echo', [TCP, i.id]);
      }
      flows.peer = await Flow.start(topo.pub, 'udp-peer', [PEER]);
      flows.toP = await Flow.start(topo.pub, 'udp-stream', [P, UDP, 41000, 50]);
      flows.toP2 = await Flow.start(topo.pub, 'udp-stream', [P2, UDP, 41001, 50]);
      flows.tcpP = await Flow.start(topo.pub, 'tcp-hold', [P, TCP, 100]);
      flows.out1 = await Flow.start(topo.inst('i-1'), 'udp-stream', [PUB_IP, PEER, 42000, 50]);
      flows.out2 = await Flow.start(topo.inst('i-2'), 'udp-stream', [PUB_IP, PEER, 42001, 50]);
    } catch (err) {
      await Promise.all(Object.values(flows).map((f) => f.stop()));
      await topo.teardown().catch(() => undefined);
      throw err;
    }
  }, 90_000);

  afterAll(async () => {
    await Promise.all(Object.values(flows).map((f) => f.stop()));
    await topo.teardown();
  }, 30_000);

  it('before: the streams reach i-1 through .200 and i-2 through .201; i-1 leaves as .200', async () => {
    await flows.toP.until((e) => e.reply === 'i-1', 5000, 'the UDP stream to .200 answered by i-1');
    await flows.toP2.until((e) => e.reply === 'i-2', 5000, 'the UDP stream to .201 answered by i-2');
    await flows.tcpP.until((e) => e.reply === 'i-1', 5000, 'the TCP connection to .200 answered by i-1');
    await flows.out1.until((e) => e.reply === P, 5000, 'i-1 seen as .200 outside');
    await flows.out2.until((e) => e.reply === P2, 5000, 'i-2 seen as .201 outside');
  });

  it('moving .200 from i-1 to i-5: one apply; the UDP stream reaches i-5, the TCP connection is cut, i-1 leaves masqueraded, unrelated entries stay', async () => {
    const before = unrelated(await listConntrack(cc().ct));
    expect(before.length).toBeGreaterThanOrEqual(2);
    const next = moved(base, 'i-5');
    const t0 = Date.now();
    const r = await applyRole(next, { role: 'cc' }, { netns: topo.cc });
    const applied = Date.now();
    // The stale entries: the stream to .200, the TCP connection, i-1's outbound stream.
    expect(r.conntrack?.deleted).toBeGreaterThanOrEqual(3);
    const first = await flows.toP.until((e) => e.reply === 'i-5', 2000, 'the UDP stream answered by i-5', applied);
    console.log(
      `conntrack-cloud: apply took ${applied - t0} ms (${r.ops} ops, ${r.conntrack?.deleted} entries deleted); i-5 answered ${first.t - applied} ms after it returned`,
    );
    const cut = await flows.tcpP.until((e) => e.error !== undefined || e.end === true, 3000, 'the TCP connection cut', t0);
    expect(cut.error ?? 'end').toMatch(/ECONNRESET|end|EPIPE/);
    await flows.out1.until((e) => e.reply === CC_PUBLIC_IP, 2000, 'i-1 seen masqueraded outside', applied);
    await sleep(300);
    // Since the apply returned (allowing a packet in flight): .200 answers only from i-5, i-1 leaves only as the CC.
    expect(new Set(flows.toP.replies(applied + 100))).toEqual(new Set(['i-5']));
    expect(flows.tcpP.replies(applied + 100)).not.toContain('i-1');
    expect(new Set(flows.out1.replies(applied + 100))).toEqual(new Set([CC_PUBLIC_IP]));
    // Unrelated flows: the same entries (same ids), still answered.
    const after = unrelated(await listConntrack(cc().ct));
    expect(after.map((e) => e.id).sort()).toEqual(before.map((e) => e.id).sort());
    expect(flows.toP2.replies(applied + 100).every((x) => x === 'i-2')).toBe(true);
    expect(flows.out2.replies(applied + 100).every((x) => x === P2)).toBe(true);
    const i1 = cloud.state.instances.find((i) => i.id === 'i-1')!.privateIp;
    expect(oracle().filter((e) => e.orig.dst === P && e.reply.src === i1)).toEqual([]);
    base = structuredClone(next);
  });

  it('a crash between the nft commit and the cleanup is repaired by the next plain apply', async () => {
    // .200 back to i-1: the maps change (as applyRole's transaction would), and the cleanup never runs.
    const back = moved(base, 'i-1');
    const scoped = { scope: roleScope('cc', false), ...ownerNames };
    const h = open({ netns: topo.cc });
    const rx = await reconcile(h, planRole(back, { role: 'cc' }), scoped).finally(() => h.close());
    expect(rx.ops).toBeGreaterThan(0);
    const t = Date.now();
    await sleep(1000);
    // The stale entry keeps the stream on i-5: the problem this step solves.
    expect(new Set(flows.toP.replies(t))).toEqual(new Set(['i-5']));
    const r = await applyRole(back, { role: 'cc' }, { netns: topo.cc });
    const applied = Date.now();
    expect(r.ops).toBe(0);
    expect(r.conntrack?.deleted).toBeGreaterThanOrEqual(1);
    await flows.toP.until((e) => e.reply === 'i-1', 2000, 'the UDP stream answered by i-1 again', applied);
    await sleep(300);
    expect(new Set(flows.toP.replies(applied + 100))).toEqual(new Set(['i-1']));
    // And an apply with nothing to do deletes nothing more.
    const again = await applyRole(back, { role: 'cc' }, { netns: topo.cc });
    expect([again.ops, again.conntrack?.deleted]).toEqual([0, 0]);
    base = structuredClone(back);
  });

  it('revoking a rule lets established connections through it continue (as Eucalyptus and AWS): nothing is flushed', async () => {
    const tcp2 = await Flow.start(topo.pub, 'tcp-hold', [P2, TCP, 100]);
    try {
      await tcp2.until((e) => e.reply === 'i-2', 5000, 'the TCP connection to .201 answered by i-2');
      const entry = (await listConntrack(cc().ct, { protocol: 'tcp', orig: { dst: P2, dport: TCP } }))[0];
      const revoked = structuredClone(base);
      const g = (revoked.groups ?? []).find((x) => x.name === 'default')!;
      g.rules = (g.rules ?? []).filter((r) => !(r.protocol === 'tcp' && r.from === TCP));
      const r = await applyRole(allocate(revoked), { role: 'cc' }, { netns: topo.cc });
      const applied = Date.now();
      expect(r.ops).toBeGreaterThan(0);
      expect(r.conntrack?.deleted).toBe(0);
      // A new connection is dropped by the firewall (its SYN never answered)...
      const fresh = await Flow.start(topo.pub, 'tcp-hold', [P2, TCP, 100], 1500).catch((e: unknown) => e);
      expect(fresh).toBeInstanceOf(Error);
      expect((fresh as Error).message).toMatch(/timed out waiting for tcp-hold/);
      // ...the established one goes on, on the same entry.
      await sleep(500);
      expect(tcp2.replies(applied).length).toBeGreaterThan(2);
      expect(tcp2.events.some((e) => e.error !== undefined || e.end)).toBe(false);
      const still = await listConntrack(cc().ct, { protocol: 'tcp', orig: { dst: P2, dport: TCP } });
      expect(still.map((e) => e.id)).toContain(entry.id);
      await applyRole(allocate(base), { role: 'cc' }, { netns: topo.cc });
    } finally {
      await tcp2.stop();
    }
  });

  it('a dry run lists the stale entries as conntrack -D lines and deletes nothing (library, CLI text and --json)', async () => {
    const away = moved(base, 'i-5');
    const line = `conntrack -D -p udp -s ${PUB_IP} -d ${P} --sport 41000 --dport ${UDP}`;
    const r = await applyRole(away, { role: 'cc' }, { netns: topo.cc, dryRun: true });
    expect(r.conntrack?.deleted).toBe(0);
    expect(r.conntrack?.stale.some((l) => l.startsWith(`${line}  # ${P} maps to `))).toBe(true);
    const file = join(mkdtempSync(join(tmpdir(), 'euct-')), 'state.json');
    writeFileSync(file, JSON.stringify(away));
    try {
      const text = eucanet(['apply', '--state', file, '--role', 'cc', '--netns', topo.cc, '--dry-run']);
      expect(text.status, text.stderr).toBe(0);
      expect(text.stdout).toMatch(/# conntrack: [1-9]\d* of \d+ entries no longer match the NAT maps/);
      expect(text.stdout).toContain(line);
      const json = eucanet(['apply', '--state', file, '--role', 'cc', '--netns', topo.cc, '--dry-run', '--json']);
      const doc = JSON.parse(json.stdout) as { conntrack: { stale: string[]; deleted: number } };
      expect(doc.conntrack.deleted).toBe(0);
      expect(doc.conntrack.stale.some((l) => l.startsWith(line))).toBe(true);
    } finally {
      rmSync(dirname(file), { recursive: true, force: true });
    }
    await sleep(300);
    expect(flows.toP.replies(Date.now() - 250).every((x) => x === 'i-1')).toBe(true);
  });
});
