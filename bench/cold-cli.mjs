// The operator's cold command-line path (issue 19): `eucanet apply --role nc`
// then `eucanet apply --role cc`, each a fresh `node dist/cli/main.js` process
// reading one state file, each role in its own namespace, DHCP included,
// against the standard tools doing the same kernel work from files written
// before: per role one `ip -batch`, one `bridge -batch` and one `nft -f`, and
// for the CC a dnsmasq start with the same hosts.
//
// The tools' input is eucanet's own dry run (its ip / bridge / nft commands)
// for that state in a namespace like the run's, taken outside the timing, so
// both sides ask the kernel for the same objects. The CC's one sysctl
// (ip_forward) is left out of the tools' side.
//
// Topology of a run: two fresh namespaces, the NC's with eth0 (its private
// NIC) and the CC's with eth0 (public) and eth1 (private), veth ends, up;
// segmentation vxlan; N instances on one node in groups of at most 1023 (4
// groups up to 4092 instances, like the "instances" workload), each with a
// public address (a /32 on the CC's eth0, a DNAT and an SNAT map element),
// a DHCP host, and its tap in its group's bridge on the NC.
//
// eucanet's phases come from the processes themselves: EUCANET_PHASES=1 makes
// the CLI print its phase times as one JSON line on stderr (src/util/phases.ts).
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dropSysctlRecordsOf } from '../dist/managed/sysctl-record.js';
import { PREFIX } from './lib/ns.mjs';
import { median, round } from './lib/stats.mjs';

const root = join(fileURLToPath(new URL('.', import.meta.url)), '..');
const dist = join(root, 'dist');
const { allocate } = await import(join(dist, 'managed/allocate.js'));
const { withAllocations } = await import(join(dist, 'managed/document.js'));
const { dhcpNetworksOf } = await import(join(dist, 'managed/roles/dhcp.js'));
const { renderDnsmasq } = await import(join(dist, 'dhcp/index.js'));

const MAX_PORTS = 1023;
let seq = 0;

/** The cloud: N instances on nc1, each with a public address, in groups of at most 1023. @param {number} n */
export function coldState(n) {
  const g = Math.max(4, Math.ceil(n / MAX_PORTS));
  const groups = Array.from({ length: g }, (_, k) => ({ owner: 'admin', name: `g${k}`, rules: [{ protocol: 'tcp', from: 22, to: 22, cidr: '0.0.0.0/0' }] }));
  const instances = Array.from({ length: n }, (_, k) => ({ id: `i-${k}`, group: `admin/g${k % g}`, node: 'nc1', port: `vn${k}`, publicIp: true }));
  const doc = {
    mode: 'MANAGED',
    segmentation: 'vxlan',
    subnet: '10.0.0.0/8',
    addrsPerNet: 2048,
    vlanRange: [10, 4094],
    publicIps: ['172.16.0.1-172.16.63.250'],
    dns: '192.168.32.1',
    macPrefix: 'd0:0d',
    cc: { publicInterface: 'eth0', privateInterface: 'eth1', underlay: '192.168.100.1/24' },
    nodes: { nc1: { privateInterface: 'eth0', underlay: '192.168.100.11/24' } },
    groups,
    instances,
  };
  // As an operator's file is after `eucanet allocate`: every allocation written in.
  return withAllocations(doc, allocate(doc));
}

/**
 * @param {string} cmd
 * @param {string[]} args
 * @param {import('node:child_process').SpawnSyncOptions} [opts]
 */
function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 30, ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ').slice(0, 200)}: exit ${r.status ?? r.signal}: ${String(r.stderr).slice(0, 2000)}`);
  return { stdout: String(r.stdout), stderr: String(r.stderr) };
}

/** Two fresh namespaces, NC and CC, with their NICs (veth ends), up. */
function freshHosts() {
  const id = seq++;
  const nc = `${PREFIX}cn${id}`;
  const cc = `${PREFIX}cc${id}`;
  run('ip', ['netns', 'add', nc]);
  run('ip', ['netns', 'add', cc]);
  run('ip', ['-n', nc, 'link', 'add', 'eth0', 'up', 'type', 'veth', 'peer', 'name', 'eth9']);
  run('ip', ['-n', nc, 'link', 'set', 'eth9', 'up']);
  run('ip', ['-n', cc, 'link', 'add', 'eth0', 'up', 'type', 'veth', 'peer', 'name', 'eth1']);
  run('ip', ['-n', cc, 'link', 'set', 'eth1', 'up']);
  return { nc, cc };
}

/** Stops a dnsmasq whose pid file is `pidFile` (if any) and removes `dir`. @param {string} pidFile @param {string} dir */
function stopDnsmasq(pidFile, dir) {
  let pid = NaN;
  try {
    pid = Number(readFileSync(pidFile, 'utf8').trim());
  } catch {
    // none started
  }
  if (pid > 0) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // gone already
    }
  }
  rmSync(dir, { recursive: true, force: true });
}

// On any exit (a failure, ^C through run.mjs's handler): every dnsmasq a CC of
// this process left running, found by its state directory, is stopped.
/** The tools' scratch directories in use (their dnsmasq's pid file is in dnsmasq/). @type {Set<string>} */
const scratch = new Set();
process.on('exit', () => {
  for (const d of scratch) stopDnsmasq(join(d, 'dnsmasq/dnsmasq.pid'), d);
  let dirs = [];
  try {
    dirs = readdirSync('/run/eucanet').filter((d) => d.startsWith(PREFIX));
  } catch {
    return;
  }
  for (const d of dirs) stopDnsmasq(`/run/eucanet/${d}/dnsmasq/dnsmasq.pid`, `/run/eucanet/${d}`);
});

/** @param {{ nc: string, cc: string }} h */
function removeHosts(h) {
  for (const ns of [h.nc, h.cc]) {
    spawnSync('ip', ['netns', 'del', ns]);
    dropSysctlRecordsOf(ns);
  }
}

/**
 * eucanet's dry run for a role, split by tool: ip lines, bridge lines, the nft script.
 * @param {string} stateFile @param {string[]} role @param {string} ns
 */
function toolFiles(stateFile, role, ns) {
  const out = run(process.execPath, [join(dist, 'cli/main.js'), 'apply', '--state', stateFile, ...role, '--netns', ns, '--dry-run']).stdout;
  const ip = [];
  const bridge = [];
  const nft = [];
  let inNft = false;
  for (const line of out.split('\n')) {
    if (inNft) {
      if (line === 'EOF') inNft = false;
      else nft.push(line);
    } else if (line.startsWith("nft -f - <<'EOF'")) inNft = true;
    else if (line.startsWith('ip ')) ip.push(line.slice(3));
    else if (line.startsWith('bridge ')) bridge.push(line.slice(7));
  }
  return { ip: ip.join('\n') + '\n', bridge: bridge.join('\n') + '\n', nft: nft.join('\n') + '\n' };
}

/**
 * Writes the tools' files for one N into `dir`: per role ip, bridge and nft
 * files, and the dnsmasq configuration (eucanet's rendering, same hosts).
 * @param {string} dir @param {string} stateFile @param {any} doc
 */
function prepareTools(dir, stateFile, doc) {
  const h = freshHosts();
  try {
    for (const [name, role, ns] of /** @type {const} */ ([
      ['nc', ['--role', 'nc', '--node', 'nc1'], h.nc],
      ['cc', ['--role', 'cc'], h.cc],
    ])) {
      const f = toolFiles(stateFile, [...role], ns);
      writeFileSync(join(dir, `${name}.ip`), f.ip);
      writeFileSync(join(dir, `${name}.bridge`), f.bridge);
      writeFileSync(join(dir, `${name}.nft`), f.nft);
    }
  } finally {
    removeHosts(h);
  }
  const dhcpDir = join(dir, 'dnsmasq');
  mkdirSync(dhcpDir, { recursive: true });
  const files = renderDnsmasq(dhcpNetworksOf(allocate(doc)), { stateDir: dhcpDir });
  // The daemon's own start (it forks once it is ready): its log goes nowhere.
  writeFileSync(join(dhcpDir, 'dnsmasq.conf'), files.config.replace(/^log-facility=-$/m, ''));
  writeFileSync(join(dhcpDir, 'hosts'), files.hosts);
  writeFileSync(join(dhcpDir, 'opts'), files.opts);
  return dhcpDir;
}

/** One run of the tools: NC then CC. @param {string} dir @param {string} dhcpDir */
function toolsRun(dir, dhcpDir) {
  const h = freshHosts();
  try {
    const t0 = performance.now();
    for (const [name, ns] of [
      ['nc', h.nc],
      ['cc', h.cc],
    ]) {
      run('ip', ['-n', ns, '-batch', join(dir, `${name}.ip`)]);
      run('bridge', ['-n', ns, '-batch', join(dir, `${name}.bridge`)]);
      run('nsenter', [`--net=/run/netns/${ns}`, 'nft', '-f', join(dir, `${name}.nft`)]);
    }
    run('nsenter', [`--net=/run/netns/${h.cc}`, 'dnsmasq', `--conf-file=${join(dhcpDir, 'dnsmasq.conf')}`], { stdio: 'ignore' });
    const ms = performance.now() - t0;
    stopDnsmasq(join(dhcpDir, 'dnsmasq.pid'), join(dhcpDir, 'leases'));
    return { ms, phases: undefined, hosts: h };
  } catch (err) {
    removeHosts(h);
    throw err;
  }
}

/**
 * One run of eucanet: `apply --role nc`, then `apply --role cc`, fresh processes.
 * @param {string} stateFile @param {string} cli the command line's main module
 */
function eucanetRun(stateFile, cli) {
  const h = freshHosts();
  /** @type {NodeJS.ProcessEnv} */
  const env = { ...process.env, EUCANET_PHASES: '1' };
  // An operator's environment, not this machine's: NODE_EXTRA_CA_CERTS (set
  // here for the sandbox's TLS proxy) makes Node read and parse a CA bundle
  // as it starts, before any of eucanet runs (about 40 ms a process here);
  // `apply` from a state file makes no TLS connection, and the tools read no
  // such variable.
  delete env.NODE_EXTRA_CA_CERTS;
  try {
    /** @type {Record<string, number>} */
    const phases = {};
    /** @type {Record<string, number>} */
    const faults = {};
    const t0 = performance.now();
    for (const role of [
      ['--role', 'nc', '--node', 'nc1', '--netns', h.nc],
      ['--role', 'cc', '--netns', h.cc],
    ]) {
      const t = performance.now();
      const r = run(process.execPath, [cli, 'apply', '--state', stateFile, ...role], { env });
      const wall = performance.now() - t;
      const line = r.stderr.split('\n').find((l) => l.startsWith('{"phases"'));
      if (!line) throw new Error(`eucanet apply ${role.join(' ')}: no phases line on stderr: ${r.stderr}`);
      /** @type {{ phases: Record<string, number>, faults?: Record<string, number> }} */
      const reported = JSON.parse(line);
      const own = reported.phases;
      for (const [k, v] of Object.entries(own)) phases[k] = (phases[k] ?? 0) + v;
      for (const [k, v] of Object.entries(reported.faults ?? {})) faults[k] = (faults[k] ?? 0) + v;
      // What the process cannot time itself: the fork and exec before it starts, its exit after it printed.
      phases.exit = (phases.exit ?? 0) + wall - Object.values(own).reduce((a, b) => a + b, 0);
    }
    const ms = performance.now() - t0;
    stopDnsmasq(`/run/eucanet/${h.cc}/dnsmasq/dnsmasq.pid`, `/run/eucanet/${h.cc}`);
    return { ms, phases, faults, hosts: h };
  } catch (err) {
    stopDnsmasq(`/run/eucanet/${h.cc}/dnsmasq/dnsmasq.pid`, `/run/eucanet/${h.cc}`);
    removeHosts(h);
    throw err;
  }
}

/**
 * Throws unless both namespaces hold the role's objects: N taps in bridges on
 * the NC, N public /32s and 2N map elements on the CC (read with ip and nft).
 * @param {{ nc: string, cc: string }} h @param {number} n @param {string} who
 */
function check(h, n, who) {
  /** @type {{ ifname: string, master?: string, linkinfo?: { info_kind?: string } }[]} */
  const links = JSON.parse(run('ip', ['-n', h.nc, '-j', '-d', 'link', 'show']).stdout);
  const taps = links.filter((l) => l.linkinfo?.info_kind === 'tun' && l.master?.startsWith('eucabr')).length;
  /** @type {{ addr_info: { prefixlen: number }[] }[]} */
  const addrs = JSON.parse(run('ip', ['-n', h.cc, '-j', 'address', 'show', 'dev', 'eth0']).stdout);
  const pubs = addrs[0].addr_info.filter((a) => a.prefixlen === 32).length;
  /** @type {any[]} */
  const rs = JSON.parse(run('nsenter', [`--net=/run/netns/${h.cc}`, 'nft', '-j', 'list', 'table', 'ip', 'eucanet']).stdout).nftables;
  const elements = rs.filter((o) => o.map).reduce((s, o) => s + (o.map.elem?.length ?? 0), 0);
  if (taps !== n || pubs !== n || elements !== 2 * n)
    throw new Error(`${who}: ${taps} taps in bridges, ${pubs} public /32s, ${elements} map elements (want ${n}, ${n}, ${2 * n})`);
}

/**
 * The cold table: per N, `reps` rounds of eucanet and the tools in rotated order.
 * `cli` is the command line to time (default this checkout's dist/cli/main.js;
 * another build's, to compare two builds side by side with the same tools).
 * @param {{ sizes: number[], reps: number, log: (s: string) => void, cli?: string }} o
 */
export async function runCold({ sizes, reps, log, cli = join(dist, 'cli/main.js') }) {
  const rows = [];
  for (const n of sizes) {
    const dir = mkdtempSync(join(tmpdir(), 'eucanet-cold-'));
    scratch.add(dir);
    chmodSync(dir, 0o711); // dnsmasq reads its hosts file as nobody
    try {
      const doc = coldState(n);
      const stateFile = join(dir, 'cloud.json');
      writeFileSync(stateFile, `${JSON.stringify(doc, null, 2)}\n`);
      const dhcpDir = prepareTools(dir, stateFile, doc);
      /** @type {number[]} */ const euca = [];
      /** @type {number[]} */ const tools = [];
      /** @type {Record<string, number[]>} */ const phases = {};
      /** @type {Record<string, number[]>} */ const faults = {};
      for (let rep = 0; rep < reps; rep++) {
        const order = rep % 2 ? ['tools', 'eucanet'] : ['eucanet', 'tools'];
        for (const who of order) {
          const r = who === 'eucanet' ? eucanetRun(stateFile, cli) : toolsRun(dir, dhcpDir);
          try {
            check(r.hosts, n, who);
          } finally {
            removeHosts(r.hosts);
          }
          if (r.phases) {
            euca.push(r.ms);
            for (const [k, v] of Object.entries(r.phases)) (phases[k] ??= []).push(v);
            for (const [k, v] of Object.entries(r.faults ?? {})) (faults[k] ??= []).push(v);
          } else tools.push(r.ms);
          log(`cold N=${n} ${who}: ${r.ms.toFixed(1)} ms`);
          // A deleted namespace's teardown runs on a kernel worker under the rtnl lock: let it land outside the timing.
          await new Promise((res) => setTimeout(res, 250));
        }
      }
      const e = median(euca);
      const b = median(tools);
      rows.push({
        n,
        eucanet: { median: round(e, 1), runs: euca.map((x) => round(x, 1)) },
        batch: { median: round(b, 1), runs: tools.map((x) => round(x, 1)) },
        ratio: round(e / b, 2),
        phases: Object.fromEntries(Object.entries(phases).map(([k, v]) => [k, round(median(v), 1)])),
        // Minor page faults per phase, both processes (a build that reports them: EUCANET_PHASES's `faults`).
        faults: Object.fromEntries(Object.entries(faults).map(([k, v]) => [k, Math.round(median(v))])),
      });
    } finally {
      scratch.delete(dir);
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return rows;
}
