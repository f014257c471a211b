#!/usr/bin/env node
// Bringing N instances up and down, each one a tap (created, put in its
// group's bridge, up), a /32 public address on the public NIC, and a DNAT and
// an SNAT; through one eucanet transaction against one `ip -batch` plus one
// `nft -f` doing the same work, side by side in one run.
//
//   npx tsc -p . && node bench/tx-bench.mjs [N=1000] [REPS=7]
//
// Needs root. Every run gets a fresh namespace (made, with its public NIC and
// bridge, outside the timing). Both sides load the same nftables content: one
// table with prerouting/postrouting nat chains and two maps (public->private
// for DNAT, private->public for SNAT), one element per instance in each;
// `--rules` makes both sides use two rules per instance instead.
//   up    eucanet: tx.addTap x N + tx.addAddress x N + tx.nft (table, chains, maps, elements); commit()
//         tools:   ip -batch (tuntap add, link set master up, address add) + nft -f
//   down  eucanet: tx.deleteLinkGroup(4200) + tx.deleteAddress x N + nft delete table; commit()
//         tools:   ip -batch (link delete group 4200, address del) + nft -f (delete table)
// Timed: the commit() (including its link dump and lookups) for eucanet; the
// two spawnSync calls for the tools (their start-up included, files written before).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dist = join(fileURLToPath(new URL('.', import.meta.url)), '../dist');
const { open, createNetns, deleteNetns } = await import(join(dist, 'index.js'));
const { rule } = await import(join(dist, 'nft/index.js'));

const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const N = Number(args[0] ?? 1000);
const REPS = Number(args[1] ?? 7);
const RULES = process.argv.includes('--rules');
const GROUP = 4200;
const T = 'eucanet';

const pub = (i) => `172.${16 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`;
const priv = (i) => `10.${1 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`;

async function scaffold(ns) {
  const h = open({ netns: ns });
  await h.links.add({ kind: 'veth', name: 'eth0', peer: 'eth0p', up: true });
  await h.links.add({ kind: 'bridge', name: 'eucabr10', stp: false, forwardDelay: 0, up: true });
  h.close();
}

function nftScript() {
  const lines = [
    `add table ip ${T}`,
    `add chain ip ${T} prerouting { type nat hook prerouting priority dstnat; policy accept; }`,
    `add chain ip ${T} postrouting { type nat hook postrouting priority srcnat; policy accept; }`,
  ];
  if (RULES) {
    for (let i = 0; i < N; i++) {
      lines.push(`add rule ip ${T} prerouting ip daddr ${pub(i)} dnat to ${priv(i)}`);
      lines.push(`add rule ip ${T} postrouting ip saddr ${priv(i)} ip daddr != 10.0.0.0/8 snat to ${pub(i)}`);
    }
  } else {
    lines.push(`add map ip ${T} pub2priv { type ipv4_addr : ipv4_addr; }`, `add map ip ${T} priv2pub { type ipv4_addr : ipv4_addr; }`);
    lines.push(`add rule ip ${T} prerouting dnat to ip daddr map @pub2priv`);
    lines.push(`add rule ip ${T} postrouting ip daddr != 10.0.0.0/8 snat to ip saddr map @priv2pub`);
    lines.push(`add element ip ${T} pub2priv { ${Array.from({ length: N }, (_, i) => `${pub(i)} : ${priv(i)}`).join(', ')} }`);
    lines.push(`add element ip ${T} priv2pub { ${Array.from({ length: N }, (_, i) => `${priv(i)} : ${pub(i)}`).join(', ')} }`);
  }
  return lines.join('\n') + '\n';
}

function ipUp() {
  const lines = [];
  for (let i = 0; i < N; i++) lines.push(`tuntap add dev vnet${i} mode tap`);
  for (let i = 0; i < N; i++) lines.push(`link set dev vnet${i} group ${GROUP} master eucabr10 up`);
  for (let i = 0; i < N; i++) lines.push(`address add ${pub(i)}/32 dev eth0`);
  return lines.join('\n') + '\n';
}

function ipDown() {
  const lines = [`link delete group ${GROUP}`];
  for (let i = 0; i < N; i++) lines.push(`address delete ${pub(i)}/32 dev eth0`);
  return lines.join('\n') + '\n';
}

async function libUp(h) {
  const tx = h.transaction();
  for (let i = 0; i < N; i++) tx.addTap(`vnet${i}`, { master: 'eucabr10', up: true, group: GROUP });
  for (let i = 0; i < N; i++) tx.addAddress({ dev: 'eth0', address: `${pub(i)}/32` });
  const b = tx.nft;
  const table = { family: 'ip', name: T };
  b.addTable(table);
  b.addChain({ family: 'ip', table: T, name: 'prerouting', type: 'nat', hook: 'prerouting', priority: -100, policy: 'accept' });
  b.addChain({ family: 'ip', table: T, name: 'postrouting', type: 'nat', hook: 'postrouting', priority: 100, policy: 'accept' });
  if (RULES) {
    for (let i = 0; i < N; i++) {
      b.addRule({ family: 'ip', table: T, chain: 'prerouting', exprs: rule().ipDaddr(pub(i)).dnat(priv(i)) });
      b.addRule({ family: 'ip', table: T, chain: 'postrouting', exprs: rule().ipSaddr(priv(i)).ipDaddr('10.0.0.0/8', { not: true }).snat(pub(i)) });
    }
  } else {
    const p2 = { family: 'ip', table: T, name: 'pub2priv', key: 'ipv4_addr', data: 'ipv4_addr' };
    const s2 = { family: 'ip', table: T, name: 'priv2pub', key: 'ipv4_addr', data: 'ipv4_addr' };
    b.addSet(p2).addSet(s2);
    b.addRule({ family: 'ip', table: T, chain: 'prerouting', exprs: rule().dnatMap('@pub2priv') });
    b.addRule({ family: 'ip', table: T, chain: 'postrouting', exprs: rule().ipDaddr('10.0.0.0/8', { not: true }).snatMap('@priv2pub') });
    b.addElements(p2, Array.from({ length: N }, (_, i) => [pub(i), priv(i)]));
    b.addElements(s2, Array.from({ length: N }, (_, i) => [priv(i), pub(i)]));
  }
  const t0 = performance.now();
  await tx.commit();
  return performance.now() - t0;
}

async function libDown(h) {
  const tx = h.transaction();
  tx.deleteLinkGroup(GROUP);
  for (let i = 0; i < N; i++) tx.deleteAddress({ dev: 'eth0', address: `${pub(i)}/32` });
  tx.nft.deleteTable({ family: 'ip', name: T });
  const t0 = performance.now();
  await tx.commit();
  return performance.now() - t0;
}

function tools(ns, ipFile, nftFile) {
  const t0 = performance.now();
  const a = spawnSync('ip', ['-n', ns, '-batch', ipFile], { stdio: ['ignore', 'ignore', 'pipe'] });
  const b = spawnSync('ip', ['netns', 'exec', ns, 'nft', '-f', nftFile], { stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = performance.now() - t0;
  if (a.status !== 0) throw new Error(`ip -batch: ${a.stderr}`);
  if (b.status !== 0) throw new Error(`nft -f: ${b.stderr}`);
  return ms;
}

const dir = mkdtempSync(join(tmpdir(), 'eucanet-txbench-'));
const files = {
  ipUp: join(dir, 'up.ip'), ipDown: join(dir, 'down.ip'), nftUp: join(dir, 'up.nft'), nftDown: join(dir, 'down.nft'),
};
writeFileSync(files.ipUp, ipUp());
writeFileSync(files.ipDown, ipDown());
writeFileSync(files.nftUp, nftScript());
writeFileSync(files.nftDown, `delete table ip ${T}\n`);

const res = { libUp: [], libDown: [], toolsUp: [], toolsDown: [] };
let seq = 0;
async function runLib() {
  const ns = `eub-${process.pid}-${seq++}`;
  createNetns(ns);
  try {
    await scaffold(ns);
    const h = open({ netns: ns });
    try {
      res.libUp.push(await libUp(h));
      res.libDown.push(await libDown(h));
    } finally {
      h.close();
    }
  } finally {
    deleteNetns(ns);
  }
}
async function runTools() {
  const ns = `eub-${process.pid}-${seq++}`;
  createNetns(ns);
  try {
    await scaffold(ns);
    res.toolsUp.push(tools(ns, files.ipUp, files.nftUp));
    res.toolsDown.push(tools(ns, files.ipDown, files.nftDown));
  } finally {
    deleteNetns(ns);
  }
}

try {
  await runLib(); // warm-up, not counted
  await runTools();
  for (const k of Object.keys(res)) res[k].length = 0;
  for (let r = 0; r < REPS; r++) {
    if (r % 2) {
      await runTools();
      await runLib();
    } else {
      await runLib();
      await runTools();
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const f = (x) => x.toFixed(1).padStart(8);
console.log(`N=${N} instances, ${REPS} runs each, NAT as ${RULES ? '2 rules' : '2 map elements'} per instance; median ms`);
console.log(`            eucanet   ip+nft   ratio (eucanet / tools)`);
for (const [name, a, b] of [['up', res.libUp, res.toolsUp], ['down', res.libDown, res.toolsDown]]) {
  console.log(`${name.padEnd(8)}${f(median(a))} ${f(median(b))}   ${(median(a) / median(b)).toFixed(2)}`);
}
const tot = (xs, ys) => xs.map((x, i) => x + ys[i]);
console.log(`${'up+down'.padEnd(8)}${f(median(tot(res.libUp, res.libDown)))} ${f(median(tot(res.toolsUp, res.toolsDown)))}   ${(median(tot(res.libUp, res.libDown)) / median(tot(res.toolsUp, res.toolsDown))).toFixed(2)}`);
