// Namespaces for benchmark runs: made fresh with the workload's fixed part
// (eth0 and the four group bridges) outside any timing, checked after each
// phase with independent tools (`ip -j`, `nft -j`), and always removed.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PORT_GROUP, TABLE, bridge, bridges, pub, tap } from './workload.mjs';

const dist = join(fileURLToPath(new URL('.', import.meta.url)), '../../dist');
const { open, createNetns, deleteNetns, netnsExists, listNetns } = await import(join(dist, 'index.js'));

export const PREFIX = `eub${process.pid}-`;
let seq = 0;

/** A fresh namespace with eth0 (a veth end, up) and the group bridges for N instances, up. @param {number} n */
export async function freshNetns(n) {
  const ns = `${PREFIX}${seq++}`;
  createNetns(ns);
  try {
    const h = open({ netns: ns });
    try {
      const tx = h.transaction();
      tx.addLink({ kind: 'veth', name: 'eth0', peer: 'eth0p', up: true });
      // The MANAGED roles' bridge settings (src/managed/roles/segments.ts), for every approach alike.
      for (const b of bridges(n)) tx.addLink({ kind: 'bridge', name: b, stp: false, forwardDelay: 0, multicastSnooping: false, up: true });
      await tx.commit();
    } finally {
      h.close();
    }
  } catch (err) {
    deleteNetns(ns);
    throw err;
  }
  return ns;
}

/** @param {string} ns */
export function removeNetns(ns) {
  if (netnsExists(ns)) deleteNetns(ns);
}

/** Removes every namespace this process made (after a failure or a signal). */
export function removeAll() {
  for (const ns of listNetns()) if (ns.startsWith(PREFIX)) deleteNetns(ns);
}

/**
 * Runs a command in `ns` (nsenter: one setns + exec, no mount namespace work).
 * @param {string} ns
 * @param {string} cmd
 * @param {string[]} args
 * @param {import('node:child_process').SpawnSyncOptionsWithStringEncoding | {}} [opts]
 */
export function inNetns(ns, cmd, args, opts = {}) {
  return spawnSync('nsenter', [`--net=/run/netns/${ns}`, cmd, ...args], { encoding: 'utf8', maxBuffer: 1 << 30, ...opts });
}

/**
 * @param {string} ns
 * @param {string} cmd
 * @param {string[]} args
 * @returns {any}
 */
function json(ns, cmd, args) {
  const r = inNetns(ns, cmd, args);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  return JSON.parse(r.stdout || '{}');
}

/**
 * What the namespace holds of the workload, read with ip and nft:
 * taps as wanted (group, master, up), public /32s on eth0, nft map elements
 * and NAT rules in table ip eucanet.
 * @param {string} ns
 * @param {number} n
 */
export function census(ns, n) {
  /** @type {{ ifindex: number, ifname: string, master?: string, master_ifindex: number, group: unknown, flags: string[] }[]} */
  const links = json(ns, 'ip', ['-j', '-d', 'link', 'show']);
  const byIndex = new Map(links.map((l) => [l.ifindex, l.ifname]));
  const wantMaster = new Map(Array.from({ length: n }, (_, i) => [tap(i), bridge(i, n)]));
  let taps = 0;
  let tapsOk = 0;
  for (const l of links) {
    if (!/^vnet\d+$/.test(l.ifname)) continue;
    taps++;
    const master = l.master ?? byIndex.get(l.master_ifindex);
    if (String(l.group) === String(PORT_GROUP) && l.flags.includes('UP') && master === wantMaster.get(l.ifname)) tapsOk++;
  }
  /** @type {{ addr_info?: { family: string, prefixlen: number, local: string }[] } | undefined} */
  const eth0 = json(ns, 'ip', ['-j', 'address', 'show', 'dev', 'eth0'])[0];
  const pubs = new Set(Array.from({ length: n }, (_, i) => pub(i)));
  const addresses = (eth0?.addr_info ?? []).filter((a) => a.family === 'inet' && a.prefixlen === 32 && pubs.has(a.local)).length;
  const rs = json(ns, 'nft', ['-j', 'list', 'ruleset']).nftables ?? [];
  let elements = 0;
  let rules = 0;
  let table = false;
  for (const o of rs) {
    if (o.table?.name === TABLE) table = true;
    if (o.map?.table === TABLE) elements += o.map.elem?.length ?? 0;
    if (o.rule?.table === TABLE) rules++;
  }
  return { taps, tapsOk, addresses, elements, rules, table };
}

/**
 * Throws unless `ns` holds the workload as `nat` ('map', 'rules' or 'none') makes it.
 * @param {string} ns
 * @param {number} n
 * @param {string} nat
 * @param {string} who
 */
export function expectUp(ns, n, nat, who) {
  const c = census(ns, n);
  const want = {
    taps: n,
    tapsOk: n,
    addresses: n,
    elements: nat === 'map' ? 2 * n : 0,
    rules: nat === 'map' ? 2 : nat === 'rules' ? 2 * n : 0,
    table: nat !== 'none',
  };
  const bad = /** @type {(keyof typeof want)[]} */ (Object.keys(want)).filter((k) => c[k] !== want[k]);
  if (bad.length) throw new Error(`${who}: after up, ${bad.map((k) => `${k} ${c[k]} (want ${want[k]})`).join(', ')}`);
}

/**
 * Throws unless the workload is gone from `ns`.
 * @param {string} ns
 * @param {number} n
 * @param {string} who
 */
export function expectDown(ns, n, who) {
  const c = census(ns, n);
  if (c.taps || c.addresses || c.table) throw new Error(`${who}: after down, left ${c.taps} taps, ${c.addresses} addresses, table ${c.table}`);
}
