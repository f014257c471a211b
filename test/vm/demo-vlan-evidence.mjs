#!/usr/bin/env node
// The VLAN lane's evidence that `eucanet demo --segmentation vlan` really uses
// 802.1Q (issue 7). Run by test/vm/vlan-lane.sh (demo_vlan_evidence) against a
// demo kept up with --keep, under a kernel with 8021q. Oracles are the standard
// tools, not the library: ip -j -d, tcpdump.
//
//   1. in euca-nc1 (and euca-nc2), eth0.10 and eth0.11 are 802.1Q devices with
//      ids 10 and 11, ports of eucabr10 and eucabr11, beside the instances'
//      ports, as the seed shows: eucabr10: vnet1 vnet2 eth0.10, eucabr11: vnet0 vnet3 eth0.11;
//   2. the CC has eth1.10 (id 10) in eucabr10, which holds the gateway 10.1.2.1/27
//      (and eth1.11 in eucabr11 with the second group's gateway);
//   3. tcpdump on the private switch's port to nc1 sees frames tagged vlan 10
//      and vlan 11 while instances of each group talk across the NCs, and every
//      frame of a group's subnet carries its group's tag;
//   4. a host plugged into the switch untagged, with an address in the first
//      group's subnet, reaches no group: its frames arrive at every host's
//      private NIC (so they were delivered), and never on any group device
//      (eth0.N / eth1.N, eucabrN, vnetX) of the CC or an NC. Isolation is
//      judged by the intruder's source MAC, not by ping: a host may answer
//      ARP for a group address on its untagged NIC (arp_ignore=0), which is
//      not the intruder reaching a group.
//
// Prints one line per finding; exits 1 if any check fails. Every process it
// starts is stopped, and the intruder's namespace removed, whatever happens.
import { execFileSync, spawn } from 'node:child_process';

const NC = ['euca-nc1', 'euca-nc2'];
const CC = 'euca-cc';
const SW = 'euca-switch';
const GROUPS = [10, 11];
const INTRUDER = `euvlan-x-${process.pid}`;
const INTRUDER_IP = '10.1.2.20/27';

/**
 * What this script reads of `ip -j -d link show`.
 * @typedef {{ ifname: string, master?: string, address?: string, linkinfo?: { info_kind?: string, info_data?: { id?: number, protocol?: string } } }} IpLink
 */

let failures = 0;
const pass = (/** @type {string} */ msg) => console.log(`evidence: PASS ${msg}`);
const fail = (/** @type {string} */ msg) => {
  failures++;
  console.log(`evidence: FAIL ${msg}`);
};
const check = (/** @type {boolean} */ ok, /** @type {string} */ msg, why = '') => (ok ? pass(msg) : fail(why ? `${msg}: ${why}` : msg));

/**
 * @param {string} cmd
 * @param {string[]} args
 * @param {Omit<import('node:child_process').ExecFileSyncOptionsWithStringEncoding, 'encoding'>} [opts]
 */
const sh = (cmd, args, opts = {}) => execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...opts });
const ipj = (/** @type {string} */ ns, /** @type {string[]} */ ...args) => JSON.parse(sh('ip', ['-n', ns, '-j', ...args]));
const nsexec = (/** @type {string} */ ns, /** @type {string} */ cmd, /** @type {string[]} */ ...args) => sh('ip', ['netns', 'exec', ns, cmd, ...args]);
const sleep = (/** @type {number} */ ms) => new Promise((r) => setTimeout(r, ms));
const ping = (/** @type {string} */ ns, /** @type {string} */ ip, count = 2) => {
  try {
    nsexec(ns, 'busybox', 'ping', '-c', String(count), '-W', '2', ip);
    return true;
  } catch {
    return false;
  }
};

// ---------------------------------------------------------------------------
// 1, 2: the devices
// ---------------------------------------------------------------------------
/** @param {string} ns */
function bridges(ns) {
  /** @type {IpLink[]} */
  const links = ipj(ns, '-d', 'link', 'show');
  const byName = new Map(links.map((l) => [l.ifname, l]));
  const ports = (/** @type {string} */ br) =>
    links
      .filter((l) => l.master === br)
      .map((l) => l.ifname)
      .sort();
  return { byName, ports };
}

/**
 * @param {string} ns
 * @param {{ byName: Map<string, IpLink> }} links
 * @param {string} name
 * @param {number} id
 * @param {string} bridge
 */
function vlanDevice(ns, { byName }, name, id, bridge) {
  const l = byName.get(name);
  const info = l?.linkinfo;
  const ok =
    info?.info_kind === 'vlan' &&
    info.info_data?.id === id &&
    info.info_data?.protocol === '802.1Q' &&
    /** @type {IpLink} */ (l).master === bridge &&
    byName.get(bridge)?.linkinfo?.info_kind === 'bridge';
  check(
    ok,
    `${ns}: ${name} is an 802.1Q device, vlan id ${id}, port of ${bridge}`,
    l ? `kind ${info?.info_kind}, id ${info?.info_data?.id}, protocol ${info?.info_data?.protocol}, master ${l.master}` : 'no such device',
  );
}

function devices() {
  /** @type {Record<number, string[]>} */
  const seedPorts = { 10: ['vnet1', 'vnet2'], 11: ['vnet0', 'vnet3'] };
  for (const ns of NC) {
    const b = bridges(ns);
    for (const id of GROUPS) vlanDevice(ns, b, `eth0.${id}`, id, `eucabr${id}`);
    const shown = GROUPS.map((id) => `eucabr${id}: ${b.ports(`eucabr${id}`).join(' ')}`).join('   ');
    const want = GROUPS.map((id) => [...seedPorts[id], `eth0.${id}`].sort().join(' '));
    check(
      GROUPS.every((id, k) => b.ports(`eucabr${id}`).join(' ') === want[k]),
      `${ns}: ${shown} (the seed's figure 3-4)`,
    );
  }
  const b = bridges(CC);
  for (const id of GROUPS) vlanDevice(CC, b, `eth1.${id}`, id, `eucabr${id}`);
  const addrs =
    ipj(CC, 'addr', 'show', 'dev', 'eucabr10')[0]?.addr_info?.map((/** @type {{ local: string, prefixlen: number }} */ a) => `${a.local}/${a.prefixlen}`) ?? [];
  check(addrs.includes('10.1.2.1/27'), `${CC}: eucabr10 holds the gateway 10.1.2.1/27`, `it holds ${addrs.join(', ') || 'nothing'}`);
}

// ---------------------------------------------------------------------------
// tcpdump, for 3 and 4
// ---------------------------------------------------------------------------
class Capture {
  /**
   * @param {string} ns
   * @param {string} dev
   */
  constructor(ns, dev) {
    this.ns = ns;
    this.dev = dev;
    /** @type {string[]} */
    this.lines = [];
    this.err = '';
    this.p = spawn('ip', ['netns', 'exec', ns, 'tcpdump', '-i', dev, '-e', '-nn', '-l', '--immediate-mode'], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.closed = new Promise((r) => this.p.on('close', r));
    let partial = '';
    this.p.stdout.setEncoding('utf8').on('data', (d) => {
      const parts = (partial + d).split('\n');
      partial = parts.pop() ?? '';
      this.lines.push(...parts.filter(Boolean));
    });
    this.p.stderr.setEncoding('utf8').on('data', (d) => (this.err += d));
  }
  async ready(ms = 60_000) {
    for (const end = Date.now() + ms; Date.now() < end; await sleep(50)) {
      if (this.err.includes('listening on')) return;
      if (this.p.exitCode !== null) break;
    }
    throw new Error(`tcpdump on ${this.dev} in ${this.ns} did not start: ${this.err.trim() || '(no output)'}`);
  }
  async stop() {
    if (this.p.exitCode === null && this.p.signalCode === null) {
      this.p.kill('SIGTERM');
      const t = setTimeout(() => this.p.kill('SIGKILL'), 5000);
      await this.closed;
      clearTimeout(t);
    }
    return this.lines;
  }
}

/**
 * Captures while `act` runs, then until no new line came for a second (at most 10 s).
 * @param {Array<[string, string]>} where  namespace and device
 * @param {() => unknown} act
 */
async function capturing(where, act) {
  const caps = where.map(([ns, dev]) => new Capture(ns, dev));
  try {
    await Promise.all(caps.map((c) => c.ready()));
    await act();
    const total = () => caps.reduce((n, c) => n + c.lines.length, 0);
    for (let seen = -1, end = Date.now() + 10_000; seen !== total() && Date.now() < end;) {
      seen = total();
      await sleep(1000);
    }
  } finally {
    await Promise.all(caps.map((c) => c.stop()));
  }
  return caps.map((c) => c.lines);
}

// ---------------------------------------------------------------------------
// 3: tagged frames on the switch
// ---------------------------------------------------------------------------
const inBlock = (/** @type {string} */ ip, /** @type {string} */ base, /** @type {number} */ size) => {
  const n = ip.split('.').map(Number);
  const b = base.split('.').map(Number);
  const v = ((n[0] << 24) | (n[1] << 16) | (n[2] << 8) | n[3]) >>> 0;
  const w = ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0;
  return v >= w && v < w + size;
};

/**
 * @param {string} ns
 * @returns {string}
 */
function addressOf(ns) {
  return ipj(ns, 'addr', 'show', 'dev', 'eth0')[0].addr_info.find((/** @type {{ family: string }} */ a) => a.family === 'inet').local;
}

async function tagged() {
  const ip = Object.fromEntries([1, 3, 5, 7].map((k) => [k, addressOf(`euca-i-${k}`)]));
  // Each group's block, from its gateway on the CC.
  const blocks = GROUPS.map((id) => {
    const a = ipj(CC, 'addr', 'show', 'dev', `eucabr${id}`)[0].addr_info.find((/** @type {{ family: string }} */ x) => x.family === 'inet');
    const size = 2 ** (32 - a.prefixlen);
    const n = a.local.split('.').map(Number);
    const v = (((n[0] << 24) | (n[1] << 16) | (n[2] << 8) | n[3]) >>> 0) & ~(size - 1);
    return { id, base: [v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255].join('.'), size };
  });
  /** @type {Array<[string, boolean]>} */
  let pings = [];
  const [lines] = await capturing([[SW, 'sw-nc1']], () => {
    pings = [
      ['#1 -> #5 (VLAN 10, nc1 -> nc2)', ping('euca-i-1', ip[5])],
      ['#3 -> #7 (VLAN 11, nc1 -> nc2)', ping('euca-i-3', ip[7])],
    ];
  });
  for (const [what, ok] of pings) check(ok, `ping ${what}`);
  const sample = (/** @type {number} */ id) => lines.find((l) => new RegExp(`vlan ${id}, p \\d+, ethertype IPv4.*ICMP echo`).test(l));
  for (const id of GROUPS) {
    const l = sample(id);
    check(
      !!l,
      `tcpdump on ${SW} sw-nc1 sees frames tagged vlan ${id}${l ? `: ${l.replace(/^\S+ /, '').slice(0, 150)}` : ''}`,
      `${lines.length} frames, none tagged ${id}`,
    );
  }
  // Every frame with a group address in it carries that group's tag.
  const wrong = [];
  let counted = 0;
  for (const l of lines) {
    const ips = [...l.matchAll(/\b(10\.1\.\d+\.\d+)\b/g)].map((m) => m[1]);
    const ids = new Set(ips.map((a) => blocks.find((b) => inBlock(a, b.base, b.size))?.id).filter((x) => x !== undefined));
    if (!ids.size) continue;
    counted++;
    const [id] = ids;
    if (ids.size > 1 || !new RegExp(`ethertype 802\\.1Q \\(0x8100\\), length \\d+: vlan ${id}, `).test(l)) wrong.push(l);
  }
  check(
    counted > 0 && wrong.length === 0,
    `all ${counted} frames of the groups' subnets on the switch carry their group's tag`,
    `${wrong.length} do not: ${wrong.slice(0, 3).join(' | ')}`,
  );
}

// ---------------------------------------------------------------------------
// 4: an untagged intruder
// ---------------------------------------------------------------------------
const capLine = /^\S+ (\S+)\s+(?:In|Out|P|M|B|Host)?\s*ifindex \d+ ([0-9a-f]{2}(?::[0-9a-f]{2}){5}) /;

async function untagged() {
  sh('ip', ['netns', 'add', INTRUDER]);
  try {
    nsexec(INTRUDER, 'sh', '-c', 'echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6; echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6');
    sh('ip', ['-n', SW, 'link', 'add', 'sw-x', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', INTRUDER]);
    sh('ip', ['-n', SW, 'link', 'set', 'sw-x', 'master', 'sw0', 'up']);
    sh('ip', ['-n', INTRUDER, 'link', 'set', 'lo', 'up']);
    sh('ip', ['-n', INTRUDER, 'link', 'set', 'eth0', 'up']);
    sh('ip', ['-n', INTRUDER, 'addr', 'add', INTRUDER_IP, 'dev', 'eth0']);
    const mac = ipj(INTRUDER, 'link', 'show', 'eth0')[0].address;
    const i1 = addressOf('euca-i-1');
    const i5 = addressOf('euca-i-5');
    const i1mac = ipj('euca-i-1', 'link', 'show', 'eth0')[0].address;
    /** @type {Array<[string, string]>} */
    const hosts = [
      [CC, 'eth1'],
      ['euca-nc1', 'eth0'],
      ['euca-nc2', 'eth0'],
    ];
    /** @type {string[]} */
    const tried = [];
    const caps = await capturing(
      hosts.map(([ns]) => [ns, 'any']),
      () => {
        for (const target of ['10.1.2.1', i1, i5]) tried.push(`${target} ${ping(INTRUDER, target) ? 'answered' : 'no answer'}`);
        // Meanwhile the group works across the NCs: the captures are live.
        tried.push(`control #1 -> #5 ${ping('euca-i-1', i5) ? 'answered' : 'no answer'}`);
      },
    );
    console.log(`evidence: intruder ${mac} (${INTRUDER_IP}, untagged) pinged 10.1.2.1, #1 ${i1}, #5 ${i5}: ${tried.join('; ')}`);
    hosts.forEach(([ns, nic], k) => {
      const frames = /** @type {RegExpExecArray[]} */ (caps[k].map((l) => capLine.exec(l)).filter(Boolean));
      const fromIntruder = frames.filter((m) => m[2] === mac);
      const onNic = fromIntruder.filter((m) => m[1] === nic).length;
      const elsewhere = [...new Set(fromIntruder.filter((m) => m[1] !== nic).map((m) => m[1]))];
      check(onNic > 0, `${ns}: the intruder's untagged frames arrive at the private NIC ${nic} (${onNic} seen)`, 'none seen: the test did not reach the host');
      check(elsewhere.length === 0, `${ns}: no frame from the intruder on any group device`, `seen on ${elsewhere.join(', ')}`);
    });
    const nc2 = /** @type {RegExpExecArray[]} */ (caps[2].map((l) => capLine.exec(l)).filter(Boolean));
    const control = nc2.filter((m) => m[2] === i1mac && m[1] === 'eth0.10').length;
    check(control > 0, `euca-nc2: #1's frames on eth0.10 meanwhile (${control}): the captures were live`);
  } finally {
    try {
      sh('ip', ['netns', 'delete', INTRUDER]);
    } catch {
      // already gone
    }
  }
}

/** @type {Array<[string, () => unknown]>} */
const steps = [
  ['devices', devices],
  ['tagged frames on the switch', tagged],
  ['untagged intruder', untagged],
];
for (const [name, fn] of steps) {
  try {
    await fn();
  } catch (err) {
    fail(`${name}: ${/** @type {Error} */ (err).message.split('\n')[0]}`);
  }
}
console.log(failures ? `evidence: ${failures} FAILED` : 'evidence: all passed');
process.exit(failures ? 1 : 0);
