#!/usr/bin/env node
// What each bridge option costs per port: N ports put in one bridge (master
// and up, one `ip -batch`, timed as a process), in a fresh namespace per run,
// for each setting, rotated, medians.
//
//   node bench/bridge-options.mjs [--n 1000] [--reps 5] [--floor-n 1000] [--json]
//
// Two kinds of port:
//   tap   a persistent tap with no carrier (its fd closed): the benchmark's
//         instances workload. The bridge keeps such a port disabled, so the
//         STP and multicast per-port start-up does not run when it is added.
//   veth  a veth whose peer is up, so it has carrier: what an instance's port
//         looks like once its hypervisor holds the tap. The bridge enables
//         the port as it is added (STP port state, multicast router timers,
//         the port's multicast context).
// Settings: the kernel's defaults for a new bridge (multicast snooping on, STP
// off), snooping off, STP on at creation, and the per-port flags learning off
// and flooding off (a second request per port: the kernel takes
// bridge_slave options only from a port already in its bridge).
//
// It also runs the C floor's whole bring-up (bench/floor: taps, master/up,
// addresses, the nft batch) with the group bridges made with snooping on and
// with it off, so the floor is reported with both settings; and, snooping
// off, with each tap's group set in the request that brings it up
// (FLOOR_GROUP_AT_UP=1) instead of while it is still down (the floor's and
// eucanet's way since round 25).
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { floorBin } from './approaches/floor.mjs';
import { atExit, exitOnSignals } from './lib/at-exit.mjs';
import { median, ms } from './lib/stats.mjs';

const { values: v } = parseArgs({
  options: {
    n: { type: 'string', default: '1000' },
    reps: { type: 'string', default: '5' },
    'floor-n': { type: 'string', default: '1000' },
    json: { type: 'boolean', default: false },
  },
});
const N = Number(v.n);
const REPS = Number(v.reps);
const FLOOR_N = Number(v['floor-n']);
for (const [k, x] of /** @type {const} */ ([
  ['n', N],
  ['reps', REPS],
  ['floor-n', FLOOR_N],
])) {
  if (!Number.isInteger(x) || x < 1 || (k === 'n' && x > 1023))
    throw new Error(`--${k}: "${x}" is not a whole number in range (n at most 1023, a bridge's port limit)`);
}
if (process.getuid?.() !== 0) {
  console.error('bridge-options: needs root (it makes network namespaces)');
  process.exit(2);
}

/**
 * One setting: the bridge's creation arguments (ip link add ... type bridge)
 * and the per-port arguments added to the enslaving request.
 * @typedef {{ id: string, what: string, bridge: string[], port: string[] }} Setting
 */
/** @type {Setting[]} */
const SETTINGS = [
  { id: 'default', what: 'kernel defaults (snooping on, STP off)', bridge: [], port: [] },
  { id: 'nosnoop', what: 'multicast snooping off', bridge: ['mcast_snooping', '0'], port: [] },
  { id: 'stp', what: 'STP on at creation', bridge: ['stp_state', '1'], port: [] },
  { id: 'nolearn', what: 'learning off (per port)', bridge: [], port: ['type', 'bridge_slave', 'learning', 'off'] },
  { id: 'noflood', what: 'flooding off (per port)', bridge: [], port: ['type', 'bridge_slave', 'flood', 'off', 'mcast_flood', 'off'] },
];

/**
 * The children's user + system CPU in ms from the last line of bash's `times`.
 * @param {string} line
 * @param {string} who
 */
function cpuOf(line, who) {
  const m = line.match(/^(\d+)m([\d.]+)s (\d+)m([\d.]+)s$/);
  if (!m) throw new Error(`${who}: no CPU times in ${JSON.stringify(line)}`);
  return 1000 * (60 * Number(m[1]) + Number(m[2]) + 60 * Number(m[3]) + Number(m[4]));
}

let seq = 0;
const nsName = () => `eubo${process.pid}-${seq++}`;
// Every namespace this process made goes when it exits, ^C and SIGTERM (a timeout's kill) included.
exitOnSignals();
atExit(() => {
  for (let i = 0; i < seq; i++) drop(`eubo${process.pid}-${i}`);
});

/** @param {string[]} args @param {string} [input] */
function ip(args, input) {
  const r = spawnSync('ip', args, { encoding: 'utf8', input, maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}
/** @param {string} ns */
const drop = (ns) => spawnSync('ip', ['netns', 'del', ns]);
const pause = (/** @type {number} */ t) => new Promise((r) => setTimeout(r, t));

/**
 * A namespace with bridge br0 made with `s.bridge` and N ports not yet in it.
 * @param {Setting} s
 * @param {'tap' | 'veth'} kind
 */
function prepare(s, kind) {
  const ns = nsName();
  ip(['netns', 'add', ns]);
  // No IPv6 on the ports: a veth that comes up sends router solicitations and
  // MLD reports, which the bridge floods to every port; that is packet work,
  // not the cost of the option, and it would swamp it.
  ip(['netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
  const l = [`link add br0 type bridge ${s.bridge.join(' ')}`, 'link set br0 up'];
  for (let i = 0; i < N; i++) {
    if (kind === 'tap') l.push(`tuntap add dev p${i} mode tap`);
    else l.push(`link add p${i} type veth peer name q${i}`, `link set q${i} up`);
  }
  // Asking for each port settles a closed tap's carrier (see docs/performance.md, "Where the time goes").
  for (let i = 0; i < N; i++) l.push(`link show dev p${i}`);
  ip(['-n', ns, '-batch', '-'], l.join('\n') + '\n');
  return ns;
}

/**
 * Milliseconds (wall, and ip's CPU) to put every port in br0 and up (one ip -batch), checked after with ip -j -d.
 * @param {string} ns
 * @param {Setting} s
 */
function enslave(ns, s) {
  const l = [];
  // The kernel reads a port's bridge_slave options only once it is a port: a second request.
  for (let i = 0; i < N; i++) {
    l.push(`link set dev p${i} master br0 up`);
    if (s.port.length) l.push([`link set dev p${i}`, ...s.port].join(' '));
  }
  const file = join(tmpdir(), `${ns}.batch`);
  writeFileSync(file, l.join('\n') + '\n');
  // bash's `times` prints the children's user and system CPU (getrusage): the
  // kernel's work for these requests runs inside ip's sendmsg() calls, so it
  // is counted even while other processes load the machine.
  const t0 = performance.now();
  const r = spawnSync('bash', ['-c', 'ip -n "$1" -batch "$2" && times', '_', ns, file], { encoding: 'utf8' });
  const wall = performance.now() - t0;
  rmSync(file, { force: true });
  if (r.status !== 0) throw new Error(`${s.id}: ip -batch: ${r.stderr}`);
  const m = r.stdout
    .trim()
    .split('\n')
    .pop()
    ?.match(/^(\d+)m([\d.]+)s (\d+)m([\d.]+)s$/);
  if (!m) throw new Error(`${s.id}: no CPU times in ${JSON.stringify(r.stdout)}`);
  const cpu = 1000 * (60 * Number(m[1]) + Number(m[2]) + 60 * Number(m[3]) + Number(m[4]));
  /** @type {{ ifname: string, master?: string }[]} */
  const links = JSON.parse(ip(['-n', ns, '-j', '-d', 'link', 'show']));
  const inBridge = links.filter((x) => /^p\d+$/.test(x.ifname) && x.master === 'br0').length;
  if (inBridge !== N) throw new Error(`${s.id}: ${inBridge} of ${N} ports in br0 after the run`);
  return { wall, cpu };
}

/**
 * The floor's bring-up of `n` instances with the group bridges made with `bridgeArgs`: wall and CPU ms.
 * @param {string[]} bridgeArgs
 * @param {Record<string, string>} [env] more environment for the floor
 */
function floorUp(bridgeArgs, env = {}) {
  const ns = nsName();
  ip(['netns', 'add', ns]);
  try {
    const l = ['link add eth0 type veth peer name eth0p', 'link set eth0 up'];
    const groups = Math.max(4, Math.ceil(FLOOR_N / 1023));
    for (let g = 0; g < groups; g++)
      l.push(`link add eucabr${10 + g} type bridge stp_state 0 forward_delay 0 ${bridgeArgs.join(' ')}`, `link set eucabr${10 + g} up`);
    ip(['-n', ns, '-batch', '-'], l.join('\n') + '\n');
    const r = spawnSync('bash', ['-c', '"$1" --netns "$2" up "$3" && times', '_', floorBin, ns, String(FLOOR_N)], {
      encoding: 'utf8',
      env: { ...process.env, ...env },
    });
    if (r.status !== 0) throw new Error(`floor: ${r.stderr}`);
    const lines = r.stdout.trim().split('\n');
    return { wall: JSON.parse(lines[0]).ms, cpu: cpuOf(lines.at(-1) ?? '', 'floor') };
  } finally {
    drop(ns);
  }
}

spawnSync('make', ['-s', '-C', new URL('./floor', import.meta.url).pathname], { stdio: 'inherit' });
/** @type {Record<string, number[]>} */
const samples = {};
const key = (/** @type {string} */ kind, /** @type {string} */ id) => `${kind}/${id}`;
try {
  for (let rep = 0; rep < REPS; rep++) {
    // The floor first: a namespace of many carrier-up veths takes a while to go.
    /** @type {Array<[string, string[], Record<string, string>?]>} */
    const floors = [
      ['floor-snoop', []],
      ['floor-nosnoop', ['mcast_snooping', '0']],
      ['floor-nosnoop-group-at-up', ['mcast_snooping', '0'], { FLOOR_GROUP_AT_UP: '1' }],
    ];
    for (let k = 0; k < rep % floors.length; k++) floors.push(/** @type {typeof floors[0]} */ (floors.shift()));
    for (const [id, args, env] of floors) {
      const t = floorUp(args, env ?? {});
      (samples[id] ??= []).push(t.wall);
      (samples[`${id}/cpu`] ??= []).push(t.cpu);
      await pause(250);
    }
    // Every namespace of the round is made first and removed after: a
    // namespace's teardown runs later on a kernel worker under the rtnl lock,
    // and would land in the next measurement.
    const runs = /** @type {const} */ (['tap', 'veth']).flatMap((kind) => SETTINGS.map((s) => ({ kind, s, ns: '' })));
    try {
      for (const r of runs) r.ns = prepare(r.s, r.kind);
      await pause(500);
      for (let i = 0; i < runs.length; i++) {
        const r = runs[(i + rep) % runs.length];
        const t = enslave(r.ns, r.s);
        (samples[key(r.kind, r.s.id)] ??= []).push(t.wall);
        (samples[`${key(r.kind, r.s.id)}/cpu`] ??= []).push(t.cpu);
        await pause(100);
      }
    } finally {
      for (const r of runs) if (r.ns) drop(r.ns);
    }
    await pause(3000);
    console.error(`round ${rep + 1}/${REPS} done`);
  }
} finally {
  for (let i = 0; i < seq; i++) drop(`eubo${process.pid}-${i}`);
  seq = 0;
}

const rows = [];
for (const kind of ['tap', 'veth']) {
  const base = median(samples[key(kind, 'default')]);
  const baseCpu = median(samples[`${key(kind, 'default')}/cpu`]);
  for (const s of SETTINGS) {
    const m = median(samples[key(kind, s.id)]);
    const c = median(samples[`${key(kind, s.id)}/cpu`]);
    rows.push({
      kind,
      setting: s.id,
      what: s.what,
      ms: m,
      usPerPort: (1000 * m) / N,
      toDefault: m / base,
      cpuMs: c,
      cpuUsPerPort: (1000 * c) / N,
      cpuToDefault: c / baseCpu,
    });
  }
}
const floor = {
  n: FLOOR_N,
  snoopOn: median(samples['floor-snoop']),
  snoopOff: median(samples['floor-nosnoop']),
  snoopOnCpu: median(samples['floor-snoop/cpu']),
  snoopOffCpu: median(samples['floor-nosnoop/cpu']),
  groupAtUp: median(samples['floor-nosnoop-group-at-up']),
  groupAtUpCpu: median(samples['floor-nosnoop-group-at-up/cpu']),
};
const out = { n: N, reps: REPS, rows, floor, samples };
if (v.json) console.log(JSON.stringify(out, null, 2));
else {
  const l = [
    `Putting ${N} ports in one bridge (master + up, one \`ip -batch\`), median of ${REPS}:`,
    '',
    '| port | setting | wall ms | µs per port | vs defaults | ip CPU ms | CPU µs per port | vs defaults |',
    '|---|---|---:|---:|---:|---:|---:|---:|',
    ...rows.map(
      (r) =>
        `| ${r.kind === 'tap' ? 'tap, no carrier' : 'veth, carrier up'} | ${r.what} | ${ms(r.ms)} | ${r.usPerPort.toFixed(0)} | ${r.toDefault.toFixed(2)}x | ${ms(r.cpuMs)} | ${r.cpuUsPerPort.toFixed(0)} | ${r.cpuToDefault.toFixed(2)}x |`,
    ),
    '',
    `The C floor's bring-up of ${FLOOR_N} instances (taps without carrier): ${ms(floor.snoopOn)} ms with snooping on, ${ms(floor.snoopOff)} ms with it off (${(floor.snoopOff / floor.snoopOn).toFixed(2)}x); its CPU ${ms(floor.snoopOnCpu)} and ${ms(floor.snoopOffCpu)} ms (${(floor.snoopOffCpu / floor.snoopOnCpu).toFixed(2)}x).`,
    `With snooping off and each tap's group set in the request that brings it up rather than while it is down: ${ms(floor.groupAtUp)} ms (${(floor.groupAtUp / floor.snoopOff).toFixed(2)}x the floor), CPU ${ms(floor.groupAtUpCpu)} ms (${(floor.groupAtUpCpu / floor.snoopOffCpu).toFixed(2)}x).`,
  ];
  console.log(l.join('\n'));
}
writeFileSync(new URL('./bridge-options.json', import.meta.url), JSON.stringify(out, null, 2) + '\n');
