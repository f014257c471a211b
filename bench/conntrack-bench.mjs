// Issue 15: the cost of the cluster controller's conntrack step in an apply
// that changes nothing (managed/apply-conntrack.ts: one IPv4 dump, decode,
// the reconciler against the NAT maps, no delete), at 1000 instances with
// public addresses, with 0 and with 10000 entries in the table. The entries
// are real: UDP datagrams from one socket in the namespace to 10000 ports of
// 127.0.0.1 (each its own entry; none stale), made afresh before every round
// (the table flushed first).
// Usage: node bench/conntrack-bench.mjs [instances=1000] [rounds=15]   (needs root and dist/)
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freshNetns, removeAll, removeNetns } from './lib/ns.mjs';
import { median, round } from './lib/stats.mjs';
import { atExit, exitOnSignals } from './lib/at-exit.mjs';

const dist = join(fileURLToPath(new URL('.', import.meta.url)), '../dist');
const { open } = await import(join(dist, 'index.js'));
const { demoState } = await import(join(dist, 'demo/state.js'));
const { applyConntrack } = await import(join(dist, 'managed/apply-conntrack.js'));

const N = Number(process.argv[2] ?? 1000);
const ROUNDS = Number(process.argv[3] ?? 15);

/** 1000 instances, every one with a public address from 172.31.0.0/20. */
async function state() {
  /** @type {import('../dist/managed/types.js').AllocatedState} */
  const s = await demoState('vxlan', N);
  s.publicIps = ['172.31.0.0/20'];
  s.instances.forEach((i, k) => (i.publicIp = `172.31.${k >> 8}.${k & 255}`));
  return s;
}

/** Makes `count` UDP conntrack entries in `ns` (one datagram to each of `count` ports of 127.0.0.1). @param {string} ns @param {number} count */
function fill(ns, count) {
  if (count === 0) return;
  const script = `const s=require('dgram').createSocket('udp4');s.bind(0,()=>{let n=0;const go=()=>{for(let k=0;k<500&&n<${count};k++)s.send('x',1+n++,'127.0.0.1');if(n<${count})setImmediate(go);else setTimeout(()=>process.exit(0),200)};go()});`;
  const r = spawnSync('ip', ['netns', 'exec', ns, process.execPath, '-e', script], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`filling the table failed: ${r.stderr}`);
}

// Its namespaces go however it ends, ^C and SIGTERM included.
exitOnSignals();
atExit(removeAll);

const s = await state();
const ns = await freshNetns(0);
/** @type {Record<string, { entries: number, ms: number[], scanned: number[], stale: number }>} */
const out = {};
try {
  const h = open({ netns: ns });
  spawnSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  // Connection tracking runs in a namespace once a rule needs it (the CC's forward chain matches ct state).
  const nft = spawnSync(
    'ip',
    ['netns', 'exec', ns, 'nft', 'add table ip t; add chain ip t out { type filter hook output priority 0; }; add rule ip t out ct state new accept'],
    { encoding: 'utf8' },
  );
  if (nft.status !== 0) throw new Error(`nft: ${nft.stderr}`);
  try {
    for (const entries of [0, 10000]) {
      const row = { entries, ms: /** @type {number[]} */ ([]), scanned: /** @type {number[]} */ ([]), stale: 0 };
      await applyConntrack(h, s, 0); // warm-up: the socket, the JIT
      for (let r = 0; r < ROUNDS; r++) {
        await h.conntrack.flush();
        fill(ns, entries);
        const t0 = performance.now();
        const res = await applyConntrack(h, s, 0);
        row.ms.push(performance.now() - t0);
        row.scanned.push(res.scanned);
        row.stale += res.stale.length;
      }
      out[String(entries)] = row;
    }
  } finally {
    h.close();
  }
} finally {
  removeNetns(ns);
}
for (const r of Object.values(out)) {
  console.log(
    `conntrack step, no-change CC apply, ${N} instances, ${r.entries} entries (read ${Math.min(...r.scanned)}-${Math.max(...r.scanned)}): ` +
      `median ${round(median(r.ms), 2)} ms, min ${round(Math.min(...r.ms), 2)} ms, max ${round(Math.max(...r.ms), 2)} ms over ${ROUNDS} rounds; stale found ${r.stale}`,
  );
}
