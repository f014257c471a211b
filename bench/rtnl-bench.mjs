#!/usr/bin/env node
// Creating N veth pairs plus one IPv4 address each, through the library
// against one `ip -batch` doing the same, in the same run.
//
//   npx tsc -p . && node bench/rtnl-bench.mjs [N=1000] [REPS=7] [--public]
//
// Needs root. Each run gets a fresh network namespace (made and removed
// outside the timing). Approaches, alternating order between repetitions:
//   lib async  LinkAddRequest + AddressAddRequest objects, all N*2 requests in
//              one Handle.rtnl.run() (pipelined, PIPELINE_CHUNK per sendto(),
//              on the libuv pool). Each veth asks the kernel for an ifindex
//              (spec.index) so that its address can name it in the same send.
//   lib sync   the same through Handle.rtnl.runSync() (the synchronous twin).
//   lib public (with --public) h.links.add() then h.addresses.add() per pair:
//              the public per-call API, which awaits each op (and looks the
//              link name up for each address): 3 round trips per pair.
//   ip -batch  one `ip -n NS -batch FILE` with the same 2N commands (the file is
//              written before the clock starts; ip's start-up is counted).
// Timed: from before open({netns}) to after close() for the library; the
// spawnSync of ip for ip. After each run the veths are removed with one
// group delete (untimed) so that namespace teardown does not overlap the next run.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { atExit, exitOnSignals } from './lib/at-exit.mjs';

const dist = join(fileURLToPath(new URL('.', import.meta.url)), '../dist');
const { open } = await import(join(dist, 'handle.js'));
const { LinkAddRequest } = await import(join(dist, 'rtnl/link.js'));
const { AddressAddRequest } = await import(join(dist, 'rtnl/address.js'));
const { createNetns, deleteNetns } = await import(join(dist, 'sys/netns.js'));

const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const N = Number(args[0] ?? 1000);
const REPS = Number(args[1] ?? 7);
const PUBLIC = process.argv.includes('--public');
const GROUP = 1;
const FIRST_INDEX = 100_000; // far above anything the kernel picks by itself here

if (process.getuid?.() !== 0) {
  console.error('rtnl-bench: needs root (network namespaces)');
  process.exit(1);
}

const addr = (/** @type {number} */ i) => `10.${(i >> 8) & 255}.${i & 255}.1/24`;

/** No lookups needed: every link is named by the ifindex it asked for. */
const resolver = {
  /** @param {string | number} ref */
  index(ref) {
    if (typeof ref === 'number') return ref;
    throw new Error(`unexpected link name ${ref}`);
  },
  netnsFd() {
    throw new Error('unexpected netns');
  },
};

function requests() {
  const reqs = [];
  for (let i = 0; i < N; i++) {
    reqs.push(new LinkAddRequest({ name: `va${i}`, kind: 'veth', peer: `vb${i}`, group: GROUP, index: FIRST_INDEX + i }, resolver));
  }
  for (let i = 0; i < N; i++) reqs.push(new AddressAddRequest({ dev: FIRST_INDEX + i, address: addr(i) }, resolver));
  return reqs;
}

/** @param {import('../dist/netlink/socket.js').Reply[]} replies */
function check(replies) {
  const failed = replies.filter((r) => r.error);
  if (failed.length) throw new Error(`${failed.length} requests failed, first: ${/** @type {Error} */ (failed[0].error).message}`);
}

/** @type {Record<string, (ns: string, dir: string) => Promise<number>>} */
const approaches = {
  'lib async (pipelined)': async (ns) => {
    const t0 = performance.now();
    const h = open({ netns: ns });
    check(await h.rtnl.run(requests()));
    h.close();
    return performance.now() - t0;
  },
  'lib sync (runSync)': async (ns) => {
    const t0 = performance.now();
    const h = open({ netns: ns });
    check(h.rtnl.runSync(requests()));
    h.close();
    return performance.now() - t0;
  },
  ...(PUBLIC
    ? {
        'lib public API (per op)': async (ns) => {
          const t0 = performance.now();
          const h = open({ netns: ns });
          for (let i = 0; i < N; i++) {
            await h.links.add({ name: `va${i}`, kind: 'veth', peer: `vb${i}`, group: GROUP });
            await h.addresses.add({ dev: `va${i}`, address: addr(i) });
          }
          h.close();
          return performance.now() - t0;
        },
      }
    : {}),
  'ip -batch': async (ns, dir) => {
    const file = join(dir, 'batch');
    const lines = [];
    for (let i = 0; i < N; i++) lines.push(`link add va${i} group ${GROUP} type veth peer name vb${i}`);
    for (let i = 0; i < N; i++) lines.push(`addr add ${addr(i)} dev va${i}`);
    writeFileSync(file, `${lines.join('\n')}\n`);
    const t0 = performance.now();
    const r = spawnSync('ip', ['-n', ns, '-batch', file], { encoding: 'utf8' });
    const ms = performance.now() - t0;
    if (r.status !== 0) throw new Error(`ip -batch failed: ${r.stderr}`);
    return ms;
  },
};

/**
 * @param {string} name
 * @param {(ns: string, dir: string) => Promise<number>} fn
 * @param {number | string} rep   'w' for the warm-up
 * @param {string} dir
 */
async function once(name, fn, rep, dir) {
  const ns = `bench-${process.pid}-${rep}-${Object.keys(approaches).indexOf(name)}`;
  const forget = atExit(() => deleteNetns(ns));
  createNetns(ns);
  try {
    const ms = await fn(ns, dir);
    // Verify, then clean up (untimed): one group delete removes every pair.
    const h = open({ netns: ns });
    try {
      const links = await h.links.list({ kind: 'veth' });
      const addrs = (await h.addresses.list({ family: 4 })).filter((/** @type {{ address: string }} */ a) => a.address.startsWith('10.'));
      if (links.length !== 2 * N || addrs.length !== N) throw new Error(`${name}: ${links.length} veths, ${addrs.length} addresses`);
      await h.links.deleteGroup(GROUP);
    } finally {
      h.close();
    }
    return ms;
  } finally {
    deleteNetns(ns);
    forget();
  }
}

const median = (/** @type {number[]} */ xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

// Stopped early (^C, SIGTERM), it removes its namespace and files too.
exitOnSignals();
const dir = mkdtempSync(join(tmpdir(), 'rtnl-bench-'));
atExit(() => rmSync(dir, { recursive: true, force: true }));
const times = Object.fromEntries(Object.keys(approaches).map((k) => [k, /** @type {number[]} */ ([])]));
try {
  // One untimed warm-up of each (page cache, JIT, module loading).
  for (const [name, fn] of Object.entries(approaches)) await once(name, fn, 'w', dir);
  for (let rep = 0; rep < REPS; rep++) {
    const order = Object.entries(approaches);
    if (rep % 2) order.reverse();
    for (const [name, fn] of order) times[name].push(await once(name, fn, rep, dir));
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const ipMedian = median(times['ip -batch']);
console.log(
  `\n${N} veth pairs + ${N} IPv4 addresses, ${REPS} runs each (fresh netns per run), kernel ${process.platform} ${(await import('node:os')).release()}, node ${process.version}\n`,
);
console.log('approach                   median ms     min ms     max ms   vs ip -batch');
console.log('-------------------------  ---------  ---------  ---------  ------------');
for (const [name, xs] of Object.entries(times)) {
  const m = median(xs);
  console.log(
    `${name.padEnd(25)}  ${m.toFixed(1).padStart(9)}  ${Math.min(...xs)
      .toFixed(1)
      .padStart(9)}  ${Math.max(...xs)
      .toFixed(1)
      .padStart(9)}  ${(m / ipMedian).toFixed(2).padStart(11)}x`,
  );
}
console.log('\nall runs (ms):');
for (const [name, xs] of Object.entries(times)) console.log(`  ${name.padEnd(25)} ${xs.map((x) => x.toFixed(0)).join(' ')}`);
