// The "datapath" workload: how many new TCP connections per second the CC
// forwards from a client on the public side to one instance's public IP, with
// few instances configured and with many. Two rulesets, built from the same
// allocated state:
//   eucanet   the CC role's own (planCc, applied with reconcile()): DNAT and
//             SNAT through maps, one lookup per packet whatever N is
//   linear    the Eucalyptus style: one DNAT and one SNAT rule per instance
//             and a chain per group, loaded with `nft -f`; otherwise rule for
//             rule the same (metadata, masquerade, forward policy drop)
// Every (N, ruleset) pair gets its own topology, all built before measuring,
// and the measurements rotate over them, so every rate in the table was
// taken side by side. The target is the last instance: a linear ruleset
// walks past all the others for each new connection.
//
//   <pub> eth0 ---- eth0 <cc> eucabr0 + eth1 ---- eth0 <inst>
//   198.51.100.2    198.51.100.1 + public /32s     the target's private IP,
//                                                  `connrate server 22`
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { atExit } from './lib/at-exit.mjs';
import { median, must } from './lib/stats.mjs';

const dist = join(fileURLToPath(new URL('.', import.meta.url)), '../dist');
const { open, reconcile, planCc, managed, createNetns, deleteNetns, netnsExists } = await import(join(dist, 'index.js'));
const connrate = new URL('./connrate/build/connrate', import.meta.url).pathname;

/** @typedef {import('../dist/managed/types.js').AllocatedState} AllocatedState */
/** @typedef {import('../dist/managed/types.js').AllocatedGroup} AllocatedGroup */
/** @typedef {import('../dist/managed/types.js').AllocatedInstance} AllocatedInstance */
/**
 * One (N, ruleset) pair's namespaces, its target instance and the processes it started.
 * @typedef {object} Topology
 * @property {{ pub: string, cc: string, inst: string }} ns
 * @property {number} n
 * @property {string} ruleset   'eucanet' or 'linear'
 * @property {import('node:child_process').ChildProcess[]} procs
 * @property {AllocatedInstance & { publicIp: string }} target   (cloudState gives every instance a public IP)
 * @property {() => void} [forget]  drops its teardown at exit (atExit) once it is torn down
 */

const PORT = 22;
const SUBNET = '10.1.0.0/16';
const META = '198.51.100.10:8773';

/** A MANAGED-NOVLAN cloud of n instances in 4 groups, every one with a public IP. @param {number} n */
export function cloudState(n) {
  const last = 100 * 256 + Math.ceil(n / 256) * 256; // room for n public IPs from 100.64.100.0
  const hi = `100.64.${(last >> 8) - 1}.255`;
  return {
    mode: 'MANAGED-NOVLAN',
    segmentation: 'none',
    subnet: SUBNET,
    addrsPerNet: 2048,
    publicIps: [`100.64.100.0-${hi}`],
    metadata: META,
    cc: { publicInterface: 'eth0', privateInterface: 'eth1' },
    // A node's bridge takes at most 1023 ports: 1000 instances a node.
    nodes: Object.fromEntries(Array.from({ length: Math.ceil(n / 1000) }, (_, k) => [`nc${k + 1}`, { privateInterface: 'eth0' }])),
    groups: [10, 11, 12, 13].map((vlan, g) => ({
      owner: 'bench',
      name: `g${g}`,
      vlan,
      rules: [{ protocol: 'tcp', from: PORT, to: PORT, cidr: '0.0.0.0/0' }],
    })),
    instances: Array.from({ length: n }, (_, i) => ({
      id: `i-${i}`,
      group: `bench/g${i % 4}`,
      node: `nc${1 + Math.floor(i / 1000)}`,
      port: `vnet${i}`,
      publicIp: true,
    })),
  };
}

/** The Eucalyptus-style ruleset for an allocated state: per-instance NAT rules. @param {AllocatedState} a */
export function linearRuleset(a) {
  const [metaIp, metaPort] = META.split(':');
  const nets = a.groups.map((g) => ({ chain: managed.groupChain(g), net: managed.groupNet(g), g }));
  const cidr = (/** @type {{ net: { network: string, prefix: number } }} */ x) => `${x.net.network}/${x.net.prefix}`;
  const l = [
    'table ip euca {',
    '  chain prerouting {',
    '    type nat hook prerouting priority dstnat; policy accept;',
    `    ip saddr ${SUBNET} ip daddr 169.254.169.254 tcp dport 80 dnat to ${META}`,
    ...a.instances.map((i) => `    ip daddr ${i.publicIp} dnat to ${i.privateIp}`),
    '  }',
    '  chain postrouting {',
    '    type nat hook postrouting priority srcnat; policy accept;',
    `    ip saddr ${SUBNET} ip daddr ${metaIp} tcp dport ${metaPort} accept`,
    ...a.instances.map((i) => `    ip saddr ${i.privateIp} ip daddr != ${SUBNET} snat to ${i.publicIp}`),
    `    ip saddr != 127.0.0.0/8 ip daddr != ${SUBNET} masquerade`,
    '  }',
    '  chain forward {',
    '    type filter hook forward priority filter; policy drop;',
    '    ct state established,related accept',
    `    ip daddr != ${SUBNET} accept`,
    ...nets.map((x) => `    ip saddr ${cidr(x)} ip daddr ${cidr(x)} accept`),
    ...nets.map((x) => `    ip daddr ${cidr(x)} jump ${x.chain}`),
    '  }',
    ...nets.flatMap((x) => [`  chain ${x.chain} {`, ...x.g.rules.map((r) => `    ip daddr ${cidr(x)} tcp dport ${r.from}-${r.to} accept`), '  }']),
    '}',
  ];
  return l.join('\n') + '\n';
}

/**
 * @param {string} ns
 * @param {string} cmd
 * @param {string[]} args
 */
function sh(ns, cmd, args) {
  const r = spawnSync('nsenter', [`--net=/run/netns/${ns}`, cmd, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${ns}: ${cmd} ${args.join(' ')}: ${r.stderr || r.error}`);
  return r.stdout;
}

/**
 * One topology: client, CC and target instance namespaces, the CC ruleset loaded, the server up.
 * @param {string} tag
 * @param {number} n
 * @param {string} ruleset
 * @param {string} dir
 * @returns {Promise<Topology>}
 */
async function topology(tag, n, ruleset, dir) {
  const ns = { pub: `${tag}-pub`, cc: `${tag}-cc`, inst: `${tag}-inst` };
  const t = /** @type {Topology} */ ({ ns, n, ruleset, procs: /** @type {import('node:child_process').ChildProcess[]} */ ([]) });
  // Also torn down if the process ends first (^C through run.mjs's handler).
  t.forget = atExit(() => teardown(t));
  for (const x of Object.values(ns)) createNetns(x);
  /** @type {AllocatedState} */
  const a = managed.allocate(cloudState(n));
  const target = a.instances[n - 1];
  const g = a.groups.find((x) => managed.groupKey(x) === target.group);
  const net = managed.groupNet(g);
  t.target = /** @type {Topology['target']} */ (target);
  const ip = (/** @type {string} */ x, /** @type {string[]} */ ...args) => sh(x, 'ip', args);
  ip(ns.cc, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', `/run/netns/${ns.pub}`);
  ip(ns.cc, 'link', 'add', 'eth1', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', `/run/netns/${ns.inst}`);
  ip(ns.cc, 'address', 'add', '198.51.100.1/24', 'dev', 'eth0');
  ip(ns.pub, 'address', 'add', '198.51.100.2/24', 'dev', 'eth0');
  ip(ns.inst, 'address', 'add', `${target.privateIp}/${net.prefix}`, 'dev', 'eth0');
  for (const x of Object.values(ns)) {
    ip(x, 'link', 'set', 'lo', 'up');
    ip(x, 'link', 'set', 'eth0', 'up');
  }
  ip(ns.pub, 'route', 'add', '100.64.0.0/16', 'via', '198.51.100.1');
  ip(ns.inst, 'route', 'add', 'default', 'via', net.gateway);
  // The CC: the role's links, addresses, sysctls and (for eucanet) its ruleset.
  const want = planCc(a);
  if (ruleset === 'linear') want.nft = undefined;
  const h = open({ netns: ns.cc });
  try {
    await reconcile(h, want);
  } finally {
    h.close();
  }
  if (ruleset === 'linear') {
    const file = join(dir, `${tag}.nft`);
    writeFileSync(file, linearRuleset(a));
    sh(ns.cc, 'nft', ['-f', file]);
  }
  // Reset connections leave conntrack entries in CLOSE for 10 s; 1 s keeps the table small.
  for (const k of ['tcp_timeout_close', 'tcp_timeout_time_wait', 'tcp_timeout_syn_sent']) {
    sh(ns.cc, 'sysctl', ['-q', '-w', `net.netfilter.nf_conntrack_${k}=1`]);
  }
  const server = spawn('nsenter', [`--net=/run/netns/${ns.inst}`, connrate, 'server', String(PORT)], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.procs.push(server);
  await new Promise((resolve, reject) => {
    server.stdout.once('data', resolve);
    server.once('exit', (c) => reject(new Error(`connrate server exited (${c})`)));
  });
  return t;
}

/** @param {Topology} t */
function teardown(t) {
  for (const p of t.procs) if (p.exitCode === null) p.kill('SIGKILL');
  for (const x of Object.values(t.ns)) if (netnsExists(x)) deleteNetns(x);
  t.forget?.();
}

/**
 * @param {Topology} t
 * @param {number} seconds
 * @returns {{ connects: number, rate: number, errors: number }}
 */
function measure(t, seconds) {
  const out = JSON.parse(sh(t.ns.pub, connrate, ['client', t.target.publicIp, String(PORT), String(seconds)]));
  if (out.connects === 0) throw new Error(`datapath ${t.ruleset} N=${t.n}: no connection reached ${t.target.publicIp}:${PORT}`);
  return out;
}

/**
 * @param {{ sizes: number[], seconds: number, reps: number, log: (s: string) => void }} o
 */
export async function runDatapath(o) {
  const dir = mkdtempSync(join(tmpdir(), 'eucanet-datapath-'));
  const forgetDir = atExit(() => rmSync(dir, { recursive: true, force: true }));
  /** @type {Topology[]} */
  const tops = [];
  const tag = `eud${process.pid}`;
  try {
    for (const n of o.sizes) {
      for (const ruleset of ['eucanet', 'linear']) {
        tops.push(await topology(`${tag}-${tops.length}`, n, ruleset, dir));
      }
    }
    // A port the groups do not open must be dropped: the forward policy is really in force.
    for (const t of tops) {
      const r = spawnSync('nsenter', [`--net=/run/netns/${t.ns.pub}`, connrate, 'client', t.target.publicIp, '23', '0.3', '1'], { encoding: 'utf8' });
      const c = JSON.parse(r.stdout || '{"connects":-1}').connects;
      if (c !== 0) throw new Error(`datapath ${t.ruleset} N=${t.n}: tcp/23 should be dropped, ${c} connects got through`);
    }
    for (const t of tops) measure(t, Math.min(0.3, o.seconds)); // warm-up
    const rates = new Map(tops.map((t) => [t, /** @type {number[]} */ ([])]));
    const errors = new Map(tops.map((t) => [t, 0]));
    for (let r = 0; r < o.reps; r++) {
      const order = tops.map((_, k) => tops[(k + r) % tops.length]);
      for (const t of order) {
        // A measurement blocks (spawnSync); between two, a signal's handler (run.mjs's ^C) gets its turn.
        await new Promise((go) => setImmediate(go));
        const m = measure(t, o.seconds);
        must(rates.get(t)).push(m.rate);
        errors.set(t, must(errors.get(t)) + m.errors);
        o.log(`datapath N=${t.n} ${t.ruleset.padEnd(7)} ${m.rate.toFixed(0)} connections/s`);
      }
    }
    const res = tops.map((t) => ({
      n: t.n,
      ruleset: t.ruleset,
      runs: must(rates.get(t)).length,
      median: median(must(rates.get(t))),
      samples: must(rates.get(t)),
      errors: errors.get(t),
      target: t.target.publicIp,
    }));
    const lo = Math.min(...o.sizes);
    const results = res.map((x) => ({ ...x, toSmallest: x.median / must(res.find((y) => y.ruleset === x.ruleset && y.n === lo)).median }));
    return { seconds: o.seconds, port: PORT, inflight: 16, results };
  } finally {
    for (const t of tops) teardown(t);
    rmSync(dir, { recursive: true, force: true });
    forgetDir();
  }
}
