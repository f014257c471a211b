#!/usr/bin/env node
// nftables load benchmark: the library against `nft -f`, side by side.
//
//   npx tsc -p . && node bench/nft-bench.mjs [--reps 7] [--n 10000] [--warmup 3] [--raw]
//
// Two workloads, each loaded in ONE batch into a fresh network namespace
// per run (created before the clock starts, deleted after):
//   rules:    N rules: N/2 per-instance DNATs in nat/prerouting
//             ("ip daddr P dnat to Q") and N/2 SNATs in nat/postrouting
//             ("ip saddr Q ip daddr != 10.0.0.0/8 snat to P")
//   elements: one map { ipv4_addr : ipv4_addr } with N elements and the rule
//             "dnat to ip daddr map @pubmap"
// For nft, the ruleset file is written before the clock starts; the time is
// `ip netns exec NS nft -f FILE` (process start included, as a caller of nft
// pays it; the cost of `ip netns exec NS true` alone is reported too).
// For the library, the clock covers building the batch from the same
// strings (rule builder / element parser), encoding, the sendto and the
// kernel's answer: "lib (from strings)"; and, separately, committing a batch
// built beforehand: "lib (prebuilt)". Every run is checked afterwards.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addon } from '../dist/native.js';
import { openNft, rule } from '../dist/nft/index.js';
import { atExit, exitOnSignals } from './lib/at-exit.mjs';

const args = process.argv.slice(2);
/** @typedef {import('../dist/nft/index.js').Nft} Nft */

const opt = (/** @type {string} */ name, /** @type {number} */ dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const REPS = opt('reps', 7);
const N = opt('n', 10000);
// Stopped early (^C, SIGTERM), it removes its namespace and files too.
exitOnSignals();
const dir = mkdtempSync(join(tmpdir(), 'nft-bench-'));
atExit(() => rmSync(dir, { recursive: true, force: true }));

// The addresses, as strings, made before any clock starts (nft's file is written beforehand too).
const PUB = Array.from({ length: N }, (_, i) => `100.${(i >> 8) & 255}.${i & 255}.${1 + ((i >> 16) & 127)}`);
const PRIV = Array.from({ length: N }, (_, i) => `10.${(i >> 8) & 255}.${i & 255}.${2 + ((i >> 16) & 127)}`);
const pub = (/** @type {number} */ i) => PUB[i];
const priv = (/** @type {number} */ i) => PRIV[i];
const WARMUP = opt('warmup', 3);

// ---- the workloads, as nft text and as library calls ----------------------
function rulesText() {
  const out = ['table ip nat {', '\tchain prerouting {', '\t\ttype nat hook prerouting priority dstnat; policy accept;'];
  for (let i = 0; i < N / 2; i++) out.push(`\t\tip daddr ${pub(i)} dnat to ${priv(i)}`);
  out.push('\t}', '\tchain postrouting {', '\t\ttype nat hook postrouting priority srcnat; policy accept;');
  for (let i = 0; i < N / 2; i++) out.push(`\t\tip saddr ${priv(i)} ip daddr != 10.0.0.0/8 snat to ${pub(i)}`);
  out.push('\t}', '}');
  return out.join('\n') + '\n';
}
const NAT = /** @type {const} */ ({ family: 'ip', table: 'nat' });
/** @param {Nft} nft */
function rulesBatch(nft) {
  const b = nft.batch();
  b.addTable({ family: 'ip', name: 'nat' });
  b.addChain({ ...NAT, name: 'prerouting', type: 'nat', hook: 'prerouting', priority: -100, policy: 'accept' });
  for (let i = 0; i < N / 2; i++) b.addRule({ ...NAT, chain: 'prerouting', exprs: rule().ipDaddr(pub(i)).dnat(priv(i)) });
  b.addChain({ ...NAT, name: 'postrouting', type: 'nat', hook: 'postrouting', priority: 100, policy: 'accept' });
  for (let i = 0; i < N / 2; i++) {
    b.addRule({ ...NAT, chain: 'postrouting', exprs: rule().ipSaddr(priv(i)).ipDaddr('10.0.0.0/8', { not: true }).snat(pub(i)) });
  }
  return b;
}

function elementsText() {
  const elems = [];
  for (let i = 0; i < N; i++) elems.push(`${pub(i)} : ${priv(i)}`);
  return `table ip nat {
\tmap pubmap {
\t\ttype ipv4_addr : ipv4_addr
\t\telements = { ${elems.join(',\n\t\t\t')} }
\t}
\tchain prerouting {
\t\ttype nat hook prerouting priority dstnat; policy accept;
\t\tdnat to ip daddr map @pubmap
\t}
}
`;
}
const MAP = /** @type {const} */ ({ ...NAT, name: 'pubmap', key: 'ipv4_addr', data: 'ipv4_addr' });
/** @param {Nft} nft */
function elementsBatch(nft) {
  const pairs = new Array(N);
  for (let i = 0; i < N; i++) pairs[i] = [pub(i), priv(i)];
  const b = nft.batch();
  b.addTable({ family: 'ip', name: 'nat' });
  b.addSet(MAP);
  b.addElements(MAP, pairs);
  b.addChain({ ...NAT, name: 'prerouting', type: 'nat', hook: 'prerouting', priority: -100, policy: 'accept' });
  b.addRule({ ...NAT, chain: 'prerouting', exprs: rule().dnatMap('@pubmap') });
  return b;
}

// ---- one timed run in a fresh namespace -----------------------------------
let seq = 0;
/**
 * @template T
 * @param {(ns: string) => T | Promise<T>} fn
 * @returns {Promise<T>}
 */
async function inFreshNetns(fn) {
  const ns = `nftbench-${process.pid}-${seq++}`;
  const forget = atExit(() => addon.netnsDelete(ns));
  addon.netnsCreate(ns);
  try {
    return await fn(ns);
  } finally {
    addon.netnsDelete(ns);
    forget();
  }
}

/**
 * @param {string} ns
 * @param {string} workload
 */
async function check(ns, workload) {
  const nft = openNft({ netns: ns });
  try {
    if (workload === 'rules') {
      const n = (await nft.listRules('ip', 'nat')).length;
      if (n !== N) throw new Error(`expected ${N} rules, found ${n}`);
    } else {
      const n = (await nft.listElements(MAP)).length;
      if (n !== N) throw new Error(`expected ${N} elements, found ${n}`);
    }
  } finally {
    nft.close();
  }
}

/**
 * @param {string} ns
 * @param {string} file
 */
function runNft(ns, file) {
  const t = process.hrtime.bigint();
  const r = spawnSync('ip', ['netns', 'exec', ns, 'nft', '-f', file], { stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (r.status !== 0) throw new Error(`nft -f failed: ${r.stderr.toString()}`);
  return ms;
}

/**
 * @param {string} ns
 * @param {(nft: Nft) => { commit(): Promise<unknown> }} build
 * @param {boolean} prebuilt
 */
async function runLib(ns, build, prebuilt) {
  const nft = openNft({ netns: ns });
  try {
    if (prebuilt) {
      const b = build(nft);
      const t = process.hrtime.bigint();
      await b.commit();
      return Number(process.hrtime.bigint() - t) / 1e6;
    }
    const t = process.hrtime.bigint();
    await build(nft).commit();
    return Number(process.hrtime.bigint() - t) / 1e6;
  } finally {
    nft.close();
  }
}

const median = (/** @type {number[]} */ xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/**
 * @param {string} workload
 * @param {string} text
 * @param {(nft: Nft) => { commit(): Promise<unknown> }} build
 */
async function bench(workload, text, build) {
  const file = join(dir, `${workload}.nft`);
  writeFileSync(file, text);
  /** @type {{ nft: number[], lib: number[], prebuilt: number[] }} */
  const t = { nft: [], lib: [], prebuilt: [] };
  // Warm-up (JIT, page cache, nft binary), not counted.
  for (let w = 0; w < WARMUP; w++) {
    await inFreshNetns((ns) => runLib(ns, build, false));
    await inFreshNetns((ns) => runNft(ns, file));
  }
  for (let r = 0; r < REPS; r++) {
    // Alternate who goes first, so neither always runs on a cooler machine.
    /** @type {('nft' | 'lib' | 'prebuilt')[]} */
    const order = r % 2 ? ['lib', 'nft', 'prebuilt'] : ['nft', 'lib', 'prebuilt'];
    for (const who of order) {
      await inFreshNetns(async (ns) => {
        t[who].push(who === 'nft' ? runNft(ns, file) : await runLib(ns, build, who === 'prebuilt'));
        await check(ns, workload);
      });
    }
  }
  return t;
}

/** @type {number[]} */
const nullExec = [];
for (let r = 0; r < REPS; r++) {
  await inFreshNetns((ns) => {
    const t = process.hrtime.bigint();
    spawnSync('ip', ['netns', 'exec', ns, 'true']);
    nullExec.push(Number(process.hrtime.bigint() - t) / 1e6);
  });
}

const fmt = (/** @type {number} */ x) => `${x.toFixed(1).padStart(8)} ms`;
console.log(`nft load benchmark: N=${N}, ${REPS} runs each, fresh netns per run, medians`);
console.log(`(ip netns exec NS true alone: ${median(nullExec).toFixed(1)} ms; included in the nft column)\n`);
console.log('workload   nft -f        lib (from strings)  lib (prebuilt)   nft/lib');
/** @type {Array<[string, string, (nft: Nft) => { commit(): Promise<unknown> }]>} */
const workloads = [
  ['rules', rulesText(), rulesBatch],
  ['elements', elementsText(), elementsBatch],
];
for (const [name, text, build] of workloads) {
  const t = await bench(name, text, build);
  const m = { nft: median(t.nft), lib: median(t.lib), prebuilt: median(t.prebuilt) };
  console.log(`${name.padEnd(9)} ${fmt(m.nft)}  ${fmt(m.lib)}         ${fmt(m.prebuilt)}     ${(m.nft / m.lib).toFixed(2)}x`);
  if (args.includes('--raw')) console.log(JSON.stringify(t));
}
rmSync(dir, { recursive: true });
