// conntrack over ctnetlink against the kernel, with real flows: a client
// namespace, a router doing DNAT and masquerade, a server namespace; UDP, TCP
// and ICMP through the router. What the library lists, filters, deletes and
// flushes in the router is checked against `conntrack -L -o extended,id` run
// in the same namespace (the independent oracle).
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { open, type Handle } from '../../src/handle.js';
import { addon } from '../../src/native.js';
import { NetlinkError, ValidationError } from '../../src/errors.js';
import type { CtEntry } from '../../src/conntrack/index.js';
import { Flow } from '../helpers/flows.js';
import { freshName, isRoot, nsExec } from '../helpers/netns.js';
import { parseExtended, type OracleEntry } from '../fixtures/conntrack/fixtures.js';

const PUB = '10.99.0.100';
const names = { a: freshName('ctA'), r: freshName('ctR'), b: freshName('ctB') };
const flows: Flow[] = [];
let h: Handle;

const sh = (ns: string, cmd: string) => execFileSync('ip', ['netns', 'exec', ns, 'sh', '-c', cmd], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const oracle = (args = ''): OracleEntry[] => parseExtended(sh(names.r, `conntrack -L -o extended,id ${args} 2>/dev/null || true`));
const key = (e: { id?: number }) => e.id;

function wire(): void {
  for (const n of Object.values(names)) addon.netnsCreate(n);
  const { a, r, b } = names;
  sh(r, `ip link add ra type veth peer name va netns ${a}; ip link add rb type veth peer name vb netns ${b}`);
  sh(
    r,
    'ip addr add 10.9.0.1/24 dev ra; ip addr add 10.8.0.1/24 dev rb; ip link set ra up; ip link set rb up; ip link set lo up; sysctl -qw net.ipv4.ip_forward=1',
  );
  sh(a, 'ip addr add 10.9.0.2/24 dev va; ip link set va up; ip link set lo up; ip route add default via 10.9.0.1');
  sh(b, 'ip addr add 10.8.0.2/24 dev vb; ip link set vb up; ip link set lo up; ip route add default via 10.8.0.1');
  nsExec(
    r,
    'nft',
    ['-f', '-'],
    `table ip t {
      chain pre { type nat hook prerouting priority -100; ip daddr ${PUB} dnat to 10.8.0.2; }
      chain post { type nat hook postrouting priority 100; ip saddr 10.8.0.0/24 oifname "ra" masquerade; }
      chain marker { type filter hook prerouting priority -150; udp dport 5001 ct mark set 5; }
    }`,
  );
}

describe.skipIf(!isRoot)('conntrack over ctnetlink, with real flows through a NAT router', () => {
  beforeAll(async () => {
    wire();
    flows.push(await Flow.start(names.b, 'udp-echo', [5001, 'B']));
    flows.push(await Flow.start(names.b, 'tcp-echo', [5002, 'B']));
    flows.push(await Flow.start(names.a, 'udp-echo', [5003, 'A']));
    flows.push(await Flow.start(names.a, 'udp-stream', [PUB, 5001, 40001, 50]));
    flows.push(await Flow.start(names.a, 'tcp-hold', [PUB, 5002, 50]));
    flows.push(await Flow.start(names.b, 'udp-stream', ['10.9.0.2', 5003, 40003, 50]));
    sh(names.a, `busybox ping -c 2 -W 1 ${PUB} >/dev/null`);
    await flows[3].until((e) => e.reply === 'B', 5000, 'the UDP stream to be answered');
    await flows[4].until((e) => e.reply === 'B', 5000, 'the TCP connection to be answered');
    h = open({ netns: names.r });
  }, 60_000);

  afterAll(async () => {
    h?.close();
    await Promise.all(flows.map((f) => f.stop()));
    for (const n of Object.values(names)) addon.netnsDelete(n);
  });

  const find = (l: CtEntry[], p: string, dport?: number) => l.filter((e) => e.protocol === p && (dport === undefined || e.orig.dport === dport));

  it('list(): the same entries as conntrack -L, tuple for tuple, with NAT, TCP state, ICMP ids and mark', async () => {
    const ours = await h.conntrack.list();
    const theirs = oracle();
    expect(ours.map(key).sort()).toEqual(theirs.map((e) => e.id).sort());
    for (const e of ours) {
      const o = theirs.find((x) => x.id === e.id)!;
      expect([e.orig.src, e.orig.dst, e.reply.src, e.reply.dst]).toEqual([o.orig.src, o.orig.dst, o.reply.src, o.reply.dst]);
      expect(e.mark).toBe(o.mark);
      if (e.protocol === 'tcp') expect(e.tcpState).toBe(o.state);
      if (e.protocol === 'icmp') expect(String(e.orig.icmpId)).toBe(o.orig.id);
    }
    const udp = find(ours, 'udp', 5001)[0];
    expect(udp.reply.src).toBe('10.8.0.2');
    expect(udp.mark).toBe(5);
    expect(find(ours, 'tcp', 5002)[0].tcpState).toBe('ESTABLISHED');
    expect(find(ours, 'icmp').length).toBeGreaterThan(0);
    const masq = find(ours, 'udp', 5003)[0];
    expect(masq.reply.dst).toBe('10.9.0.1');
    expect(masq.statusNames).toContain('SRC_NAT');
  });

  it('kernel-side filters: mark, status, family; user-side: protocol, addresses, ports; each as conntrack -L filters', async () => {
    const marked = await h.conntrack.list({ mark: 5 });
    expect(marked.map(key)).toEqual(oracle('-m 5').map((e) => e.id));
    expect(marked.length).toBe(1);
    const dnat = await h.conntrack.list({ status: ['DST_NAT'] });
    expect(dnat.map(key).sort()).toEqual(
      oracle('--dst-nat')
        .map((e) => e.id)
        .sort(),
    );
    expect(dnat.every((e) => e.reply.src === '10.8.0.2')).toBe(true);
    expect(await h.conntrack.list({ family: 'ipv6' })).toEqual([]);
    const tcp = await h.conntrack.list({ protocol: 'tcp', orig: { dst: `${PUB}/32`, dport: 5002 }, reply: { src: '10.8.0.0/24' } });
    expect(tcp.map(key)).toEqual(oracle(`-p tcp -d ${PUB} --dport 5002`).map((e) => e.id));
  });

  it('a zone is filtered by the kernel on list and flush', async () => {
    sh(names.r, 'conntrack -I -p udp -s 10.7.0.1 -d 10.7.0.2 --sport 1 --dport 2 -t 100 -w 7 2>/dev/null');
    const zoned = await h.conntrack.list({ zone: 7 });
    expect(zoned.map((e) => [e.orig.src, e.zone])).toEqual([['10.7.0.1', 7]]);
    const before = (await h.conntrack.list()).length;
    const r = await h.conntrack.flush({ zone: 7 });
    expect(r).toEqual({ deleted: 1, vanished: 0, kernelSide: true });
    expect(oracle('-w 7')).toEqual([]);
    expect((await h.conntrack.list()).length).toBe(before - 1);
  });

  it('bad input is refused before anything is sent, naming the field and value', async () => {
    const before = oracle().length;
    await expect(h.conntrack.delete({ protocol: 'udp', orig: { src: '10.9.0.2', dst: 'ten' } })).rejects.toThrow(ValidationError);
    await expect(h.conntrack.flush({ orig: { src: '10.9.0.0/40' } })).rejects.toThrow(/orig\.src "10\.9\.0\.0\/40"/);
    expect(oracle().length).toBe(before);
  });

  it('delete(): one entry by tuple and id, nothing else; deleting it again is ENOENT naming the op', async () => {
    const before = await h.conntrack.list();
    const [icmp] = find(before, 'icmp');
    await h.conntrack.delete(icmp);
    const left = oracle().map((e) => e.id);
    expect(left).not.toContain(icmp.id);
    for (const e of before) if (e !== icmp && e.protocol !== 'tcp') expect(left).toContain(e.id);
    const err = await h.conntrack.delete(icmp).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetlinkError);
    expect((err as NetlinkError).code).toBe('ENOENT');
    expect((err as Error).message).toContain(`conntrack -D -p icmp -s 10.9.0.2 -d ${PUB} --icmp-type 8 --icmp-code 0 --icmp-id ${icmp.orig.icmpId}`);
  });

  it('flush(filter) the kernel cannot select alone: dump, match, delete each in one exchange; unrelated entries stay', async () => {
    const all = await h.conntrack.list();
    const udp = find(all, 'udp', 5001);
    const others = all.filter((e) => !udp.includes(e)).map(key);
    // The stream's next packet (every 50 ms) would make the entry again, and
    // the kernel's id of a conntrack entry is a hash of its memory address and
    // tuple: the new entry, freed memory reused, can have the deleted one's id.
    // Its packets are held back (dropped before conntrack) while it is checked.
    sh(names.r, `nft 'add table ip hold; add chain ip hold pre { type filter hook prerouting priority -300; udp dport 5001 drop; }'`);
    try {
      const r = await h.conntrack.flush({ protocol: 'udp', orig: { dst: PUB } });
      expect(r).toEqual({ deleted: 1, vanished: 0, kernelSide: false });
      const left = oracle().map((e) => e.id);
      expect(left).not.toContain(udp[0].id);
      for (const id of others) if (id !== undefined) expect(left).toContain(id);
    } finally {
      sh(names.r, 'nft delete table ip hold');
    }
  });

  it('an entry that vanished before its delete is counted, not an error', async () => {
    const { deleteMany } = await import('../../src/conntrack/index.js');
    const [m] = await h.conntrack.list({ protocol: 'udp', orig: { dport: 5003 } });
    const r = await deleteMany(h.ct, [m, m]);
    expect(r).toEqual({ deleted: 1, vanished: 1 });
  });

  it('flush() by mark is done by the kernel in one request', async () => {
    // The UDP stream made a new entry (marked 5) after the flush above; stop it so that it makes no more.
    await flows[3].until((e) => e.reply !== undefined, 3000, 'more traffic', Date.now());
    await flows[3].stop();
    expect(oracle('-m 5').length).toBe(1);
    const others = oracle().length - 1;
    const r = await h.conntrack.flush({ mark: 5 });
    expect(r).toEqual({ deleted: 1, vanished: 0, kernelSide: true });
    expect(oracle('-m 5')).toEqual([]);
    expect(oracle().length).toBe(others);
  });
});
