// Real packets over VLANs made by the library (the VLAN lane: a VLAN-capable
// kernel, natively or in the qemu VM).
//
// The private network of the seed, in namespaces:
//
//      ns A ("cc")                  ns SW (the switch)                ns B ("nc")
//   eucabr10 10.1.2.1/27                                          eth0.10 10.1.2.2/27
//     └ eth0.10 ─┐                                                ┌─ eth0.11 10.1.2.34/27
//   eucabr11 10.1.2.33/27                                         │
//     └ eth0.11 ─┤                                                │
//             eth0 10.9.9.1/24 ══ sw-a ─ sw0 (bridge) ─ sw-b ══ eth0 10.9.9.2/24
//                                         └ sw-c ══ eth0 (ns C, "intruder": untagged,
//                                                        or on the wrong VLAN)
//
// A keeps its group addresses on bridges with the VLAN device as a port (the
// seed's eucabr10 + eth0.10), B directly on the VLAN devices. eth0 carries an
// untagged "underlay" address on every host, to show the wire itself works.
// The switch's bridge has no VLAN filtering: it passes tagged frames through,
// as a plain L2 switch would, so only the tags keep the groups apart.
// IPv6 is off in every namespace so that no stray frames (DAD, RS, MLD) crowd
// the captures.
//
// Isolation is checked by source MAC, not by whether a ping fails or by rx
// counters: with Linux's defaults (arp_ignore=0, the weak host model) a host
// answers ARP for its group address on eth0 too, and its replies then go out
// on the VLAN, so the group's other members legitimately see VLAN 10 frames
// caused by the intruder. What must never happen is a frame *from* the
// intruder arriving on a VLAN device.
import { spawn, type ChildProcess } from 'node:child_process';
import { expect, it } from 'vitest';
import { open, type Handle } from '../../src/handle.js';
import { describeVlan, ping, withNamespaces } from './support.js';

const FILE = 'test/vlan/vlan-packets.test.ts';

interface Lan {
  a: Handle;
  b: Handle;
  c: Handle;
  sw: Handle;
  ns: { a: string; b: string; c: string; sw: string };
}

/** The switch and three hosts, each host's eth0 a veth into the switch's bridge. */
async function withLan<T>(fn: (lan: Lan) => Promise<T>): Promise<T> {
  return withNamespaces(4, async ([a, b, c, sw]) => {
    const ns = { a: a, b: b, c: c, sw: sw };
    const handles: Handle[] = [];
    try {
      const [ha, hb, hc, hsw] = [ns.a, ns.b, ns.c, ns.sw].map((n) => {
        const h = open({ netns: n });
        handles.push(h);
        return h;
      }) as [Handle, Handle, Handle, Handle];
      for (const h of handles) {
        await h.sysctl.set('net.ipv6.conf.all.disable_ipv6', 1);
        await h.sysctl.set('net.ipv6.conf.default.disable_ipv6', 1);
      }
      await hsw.links.add({ name: 'sw0', kind: 'bridge', stp: false, up: true });
      for (const [port, host, h] of [
        ['sw-a', ns.a, ha],
        ['sw-b', ns.b, hb],
        ['sw-c', ns.c, hc],
      ] as const) {
        await hsw.links.add({ name: port, kind: 'veth', peer: 'eth0', peerNetns: host, master: 'sw0', up: true });
        await h.links.set('eth0', { up: true });
      }
      await ha.addresses.add({ dev: 'eth0', address: '10.9.9.1/24' });
      await hb.addresses.add({ dev: 'eth0', address: '10.9.9.2/24' });
      await hc.addresses.add({ dev: 'eth0', address: '10.9.9.3/24' });

      // A: the seed's shape, group bridges with the VLAN device as their port.
      for (const [id, addr] of [
        [10, '10.1.2.1/27'],
        [11, '10.1.2.33/27'],
      ] as const) {
        await ha.links.add({ name: `eucabr${id}`, kind: 'bridge', stp: false, up: true });
        await ha.links.add({ name: `eth0.${id}`, kind: 'vlan', parent: 'eth0', id, protocol: '802.1Q', master: `eucabr${id}`, up: true });
        await ha.addresses.add({ dev: `eucabr${id}`, address: addr });
      }
      // B: the addresses on the VLAN devices themselves.
      for (const [id, addr] of [
        [10, '10.1.2.2/27'],
        [11, '10.1.2.34/27'],
      ] as const) {
        await hb.links.add({ name: `eth0.${id}`, kind: 'vlan', parent: 'eth0', id, up: true });
        await hb.addresses.add({ dev: `eth0.${id}`, address: addr });
      }
      return await fn({ a: ha, b: hb, c: hc, sw: hsw, ns });
    } finally {
      for (const h of handles) h.close();
    }
  });
}

/**
 * tcpdump in `ns` on `dev`: -e (link-level headers, so 802.1Q tags and source
 * MACs show), -nn, -l, no filter (so untagged frames would show too), at most
 * `max` frames. `ready` resolves once it listens; stop() ends it (always
 * call it: it kills the process) and gives the lines it printed.
 */
class Capture {
  readonly lines: string[] = [];
  readonly ready: Promise<void>;
  private readonly p: ChildProcess;
  private readonly exit: Promise<void>;
  private exited = false;
  private stderr = '';
  private partial = '';

  constructor(
    readonly ns: string,
    readonly dev: string,
    max = 200,
  ) {
    this.p = spawn('ip', ['netns', 'exec', ns, 'tcpdump', '-i', dev, '-e', '-nn', '-l', '--immediate-mode', '-c', String(max)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.exit = new Promise((resolve) =>
      this.p.on('close', () => {
        this.exited = true;
        resolve();
      }),
    );
    this.p.on('error', (err) => (this.stderr += String(err)));
    this.p.stdout!.setEncoding('utf8').on('data', (d: string) => {
      const parts = (this.partial + d).split('\n');
      this.partial = parts.pop()!;
      this.lines.push(...parts.filter(Boolean));
    });
    this.p.stderr!.setEncoding('utf8').on('data', (d: string) => (this.stderr += d));
    this.ready = this.waitFor(() => this.stderr.includes('listening on'), 30_000).then((ok) => {
      if (!ok) throw new Error(`tcpdump did not start listening on ${dev} in ${ns}: ${this.stderr || '(no output)'}`);
    });
    this.ready.catch(() => undefined); // reported by whoever awaits it
  }

  /** Polls `cond` until it holds, tcpdump has exited, or `ms` pass; its last value. */
  async waitFor(cond: () => boolean, ms: number): Promise<boolean> {
    const end = Date.now() + ms;
    while (!cond() && !this.exited && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    return cond();
  }

  async stop(): Promise<string[]> {
    if (!this.exited) {
      this.p.kill('SIGTERM');
      const t = setTimeout(() => this.p.kill('SIGKILL'), 5_000);
      await this.exit;
      clearTimeout(t);
    }
    if (this.partial) this.lines.push(this.partial);
    this.partial = '';
    return this.lines;
  }
}

/** Captures on each [ns, dev] while `act` runs; all stopped whatever happens. */
async function capturing(
  where: Array<[string, string]>,
  act: () => void | Promise<void>,
  { until = (_: string[][]): boolean => true, timeoutMs = 20_000 } = {},
): Promise<string[][]> {
  const caps = where.map(([ns, dev]) => new Capture(ns, dev));
  try {
    await Promise.all(caps.map((c) => c.ready));
    await act();
    await caps[0].waitFor(() => until(caps.map((c) => c.lines)), timeoutMs);
    // Let tcpdump print what the kernel already handed it: quiet for 1 s (at most 8 s).
    const total = () => caps.reduce((n, c) => n + c.lines.length, 0);
    for (let seen = -1, end = Date.now() + 8_000; seen !== total() && Date.now() < end;) {
      seen = total();
      await new Promise((r) => setTimeout(r, 1_000));
    }
  } finally {
    await Promise.all(caps.map((c) => c.stop()));
  }
  return caps.map((c) => c.lines);
}

/** The source MAC of a `tcpdump -e` line. */
const srcMac = (line: string) => /^\S+ ([0-9a-f]{2}(?::[0-9a-f]{2}){5}) > /.exec(line)?.[1];

/** The VLAN a 10.1.2.x address belongs to in the seed's layout (two /27s). */
const vlanOf = (host: number) => (host < 32 ? 10 : 11);

function expectPing(ns: string, dst: string): void {
  const r = ping(ns, dst);
  expect(r.ok, `ping ${dst} from ${ns} should work:\n${r.output}`).toBe(true);
}
function expectNoPing(ns: string, dst: string): void {
  const r = ping(ns, dst, { count: 2, deadline: 3 });
  expect(r.ok, `ping ${dst} from ${ns} should fail:\n${r.output}`).toBe(false);
}

describeVlan(FILE, 'VLAN packets (root, 8021q, a switch and three hosts in namespaces)', () => {
  it('ping works within VLAN 10 and within VLAN 11, and the switch sees every such frame tagged 10 or 11', async () => {
    await withLan(async ({ ns }) => {
      const echo = (vid: number, src: string, dst: string, what: string) =>
        new RegExp(
          `ethertype 802\\.1Q \\(0x8100\\).*: vlan ${vid}, p \\d+, ethertype IPv4.*${src.replace(/\./g, '\\.')} > ${dst.replace(/\./g, '\\.')}: ICMP echo ${what}`,
        );
      const wanted = [
        echo(10, '10.1.2.2', '10.1.2.1', 'request'),
        echo(10, '10.1.2.1', '10.1.2.2', 'reply'),
        echo(11, '10.1.2.34', '10.1.2.33', 'request'),
        echo(11, '10.1.2.33', '10.1.2.34', 'reply'),
      ];
      const seen = (lines: string[]) => wanted.every((re) => lines.some((l) => re.test(l)));
      // On the switch, the port towards A: B's and A's frames both cross it.
      const [lines] = await capturing(
        [[ns.sw, 'sw-a']],
        () => {
          expectPing(ns.b, '10.1.2.1'); // VLAN 10: B's eth0.10 -> A's eucabr10
          expectPing(ns.b, '10.1.2.33'); // VLAN 11: B's eth0.11 -> A's eucabr11
          expectPing(ns.a, '10.1.2.2'); // and back the other way
          expectPing(ns.a, '10.1.2.34');
        },
        { until: ([l]) => seen(l) },
      );
      const dump = lines.join('\n');
      for (const re of wanted)
        expect(
          lines.some((l) => re.test(l)),
          `no frame matching ${re} in:\n${dump}`,
        ).toBe(true);
      // Every frame of the groups' subnets (ICMP and ARP alike) carried its group's tag.
      const groupFrames = lines.filter((l) => /\b10\.1\.2\.\d+\b/.test(l));
      expect(groupFrames.length).toBeGreaterThanOrEqual(8);
      for (const l of groupFrames) {
        const hosts = [...l.matchAll(/\b10\.1\.2\.(\d+)\b/g)].map((m) => Number(m[1]));
        const vids = new Set(hosts.map(vlanOf));
        expect(vids.size, l).toBe(1);
        const [vid] = vids;
        expect(l, 'a group frame without its tag').toMatch(new RegExp(`ethertype 802\\.1Q \\(0x8100\\), length \\d+: vlan ${vid}, `));
      }
    });
  });

  it("an untagged host with an address in VLAN 10's subnet reaches no group; the wire itself works", async () => {
    await withLan(async ({ b, c, ns }) => {
      const macC = (await c.links.get('eth0'))!.address!;
      const macB = (await b.links.get('eth0'))!.address!;
      // The wire works: C reaches A and B untagged, on the underlay subnet.
      expectPing(ns.c, '10.9.9.1');
      expectPing(ns.c, '10.9.9.2');

      await c.addresses.add({ dev: 'eth0', address: '10.1.2.3/27' });
      // Every group device on A and B is watched, and A's eth0 underneath them.
      const where: Array<[string, string]> = [
        [ns.a, 'eth0'],
        [ns.a, 'eth0.10'],
        [ns.a, 'eth0.11'],
        [ns.b, 'eth0.10'],
        [ns.b, 'eth0.11'],
      ];
      const [aEth0, ...groups] = await capturing(where, () => {
        expectNoPing(ns.c, '10.1.2.1'); // A's group 10 address (on eucabr10)
        expectNoPing(ns.c, '10.1.2.2'); // B's group 10 address (on eth0.10)
        // Meanwhile the groups work, which also shows each capture is live.
        expectPing(ns.b, '10.1.2.1');
        expectPing(ns.b, '10.1.2.33');
        expectPing(ns.a, '10.1.2.2');
        expectPing(ns.a, '10.1.2.34');
      });
      // C's frames did reach A's eth0, untagged ...
      const fromC = aEth0.filter((l) => srcMac(l) === macC);
      expect(
        fromC.some((l) => /ethertype ARP .*who-has 10\.1\.2\.1 tell 10\.1\.2\.3/.test(l)),
        aEth0.join('\n'),
      ).toBe(true);
      expect(
        fromC.every((l) => !l.includes('802.1Q')),
        fromC.join('\n'),
      ).toBe(true);
      // ... but not one reached a VLAN device (and so a group bridge) on either host.
      groups.forEach((lines, i) => {
        const [n, dev] = where[i + 1];
        const label = `${n === ns.a ? 'A' : 'B'} ${dev}`;
        expect(
          lines.filter((l) => srcMac(l) === macC),
          `frames from C on ${label}`,
        ).toEqual([]);
        if (n === ns.a)
          expect(
            lines.some((l) => srcMac(l) === macB),
            `${label}: the capture saw B's pings`,
          ).toBe(true);
        else expect(lines.length, `${label}: the capture saw A's pings`).toBeGreaterThan(0);
      });
    });
  });

  it('a host on VLAN 11 cannot reach VLAN 10, even with an address in its subnet', async () => {
    await withLan(async ({ b, c, ns }) => {
      const macC = (await c.links.get('eth0'))!.address!;
      const macB = (await b.links.get('eth0'))!.address!;
      await c.links.add({ name: 'eth0.11', kind: 'vlan', parent: 'eth0', id: 11, up: true });
      // On VLAN 11 proper, C is a member of group 11.
      await c.addresses.add({ dev: 'eth0.11', address: '10.1.2.35/27' });
      expectPing(ns.c, '10.1.2.33');
      expectPing(ns.c, '10.1.2.34');

      await c.addresses.delete({ dev: 'eth0.11', address: '10.1.2.35/27' });
      await c.addresses.add({ dev: 'eth0.11', address: '10.1.2.4/27' });
      const where: Array<[string, string]> = [
        [ns.a, 'eth0.11'],
        [ns.a, 'eth0.10'],
        [ns.b, 'eth0.10'],
      ];
      const [a11, a10, b10] = await capturing(where, () => {
        expectNoPing(ns.c, '10.1.2.1');
        expectNoPing(ns.c, '10.1.2.2');
        expectPing(ns.b, '10.1.2.1'); // live captures on group 10
      });
      // C's frames went out on VLAN 11 and arrived there ...
      expect(
        a11.some((l) => srcMac(l) === macC && /who-has 10\.1\.2\.1 tell 10\.1\.2\.4/.test(l)),
        a11.join('\n'),
      ).toBe(true);
      // ... and never on VLAN 10.
      expect(
        a10.filter((l) => srcMac(l) === macC),
        'frames from C on A eth0.10',
      ).toEqual([]);
      expect(
        b10.filter((l) => srcMac(l) === macC),
        'frames from C on B eth0.10',
      ).toEqual([]);
      expect(
        a10.some((l) => srcMac(l) === macB),
        "A eth0.10: the capture saw B's pings",
      ).toBe(true);
      expect(b10.length, "B eth0.10: the capture saw B's pings").toBeGreaterThan(0);
    });
  });

  it('QinQ: an 802.1Q VLAN inside an 802.1ad one carries pings, and the switch sees both tags', async () => {
    await withLan(async ({ a, b, ns }) => {
      for (const [h, addr] of [
        [a, '10.1.3.1/24'],
        [b, '10.1.3.2/24'],
      ] as const) {
        await h.links.add({ name: 'eth0.100', kind: 'vlan', parent: 'eth0', id: 100, protocol: '802.1ad', up: true });
        await h.links.add({ name: 'eth0.100.10', kind: 'vlan', parent: 'eth0.100', id: 10, protocol: '802.1Q', up: true });
        await h.addresses.add({ dev: 'eth0.100.10', address: addr });
      }
      const re =
        /ethertype 802\.1Q-QinQ \(0x88a8\), length \d+: vlan 100, p \d+, ethertype 802\.1Q \(0x8100\), vlan 10, p \d+, ethertype IPv4.*10\.1\.3\.2 > 10\.1\.3\.1: ICMP echo request/;
      const [lines] = await capturing([[ns.sw, 'sw-a']], () => expectPing(ns.b, '10.1.3.1'), { until: ([l]) => l.some((x) => re.test(x)) });
      expect(
        lines.some((l) => re.test(l)),
        `no double-tagged echo request in:\n${lines.join('\n')}`,
      ).toBe(true);
      // Nothing of 10.1.3.0/24 crossed the switch with a single tag or none.
      for (const l of lines.filter((x) => /\b10\.1\.3\.\d+\b/.test(x))) expect(l).toMatch(/0x88a8\), length \d+: vlan 100, .*vlan 10, /);
    });
  });
});
