// One `ip -batch` file plus one `nft -f` file (the fastest way with the
// standard tools). Timed: the processes, files written before. The re-apply
// is what a script would do: dump with `ip -j` and `nft -j`, compare.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PORT_GROUP, TABLE, bridge, ipBatchDown, ipBatchUp, nftFile, priv, pub, tap } from '../lib/workload.mjs';

/**
 * @param {string} ns
 * @param {string} cmd
 * @param {string[]} args
 */
function exec(ns, cmd, args) {
  // ip picks its namespace itself (-n); nft is entered into it (nsenter: setns + exec).
  const r =
    cmd === 'ip'
      ? spawnSync('ip', ['-n', ns, ...args], { encoding: 'utf8', maxBuffer: 1 << 30 })
      : spawnSync('nsenter', [`--net=/run/netns/${ns}`, cmd, ...args], { encoding: 'utf8', maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** @typedef {[string, string]} Pair  a map element of `nft -j`: key, value */
/** @typedef {{ dir: string, files: { ipUp: string, ipDown: string, nftUp: string, nftDown: string } }} State */

export default {
  id: 'batch',
  label: 'one `ip -batch` + one `nft -f`',
  nat: 'map',
  /** @this {State} @param {number} n */
  begin(n) {
    this.dir = mkdtempSync(join(tmpdir(), 'eucanet-bench-'));
    this.files = { ipUp: join(this.dir, 'up.ip'), ipDown: join(this.dir, 'down.ip'), nftUp: join(this.dir, 'up.nft'), nftDown: join(this.dir, 'down.nft') };
    writeFileSync(this.files.ipUp, ipBatchUp(n));
    writeFileSync(this.files.ipDown, ipBatchDown(n));
    writeFileSync(this.files.nftUp, nftFile(n));
    writeFileSync(this.files.nftDown, `delete table ip ${TABLE}\n`);
  },
  /** @this {State} @param {string} ns */
  async up(ns) {
    const t0 = performance.now();
    exec(ns, 'ip', ['-batch', this.files.ipUp]);
    exec(ns, 'nft', ['-f', this.files.nftUp]);
    return performance.now() - t0;
  },
  /** @param {string} ns @param {number} n */
  async reconcile(ns, n) {
    const t0 = performance.now();
    /** @type {{ ifname: string, flags: string[], master?: string, group: unknown }[]} */
    const links = JSON.parse(exec(ns, 'ip', ['-j', '-d', 'link', 'show']));
    /** @type {{ addr_info: { prefixlen: number, local: string }[] }[]} */
    const addrs = JSON.parse(exec(ns, 'ip', ['-j', 'address', 'show', 'dev', 'eth0']));
    /** @type {any[]} the objects of `nft -j` (only maps are read) */
    const rs = JSON.parse(exec(ns, 'nft', ['-j', 'list', 'table', 'ip', TABLE])).nftables;
    const byName = new Map(links.map((l) => [l.ifname, l]));
    const local = new Set(addrs[0].addr_info.filter((a) => a.prefixlen === 32).map((a) => a.local));
    const maps = new Map(rs.filter((o) => o.map).map((o) => [o.map.name, new Map((o.map.elem ?? []).map((/** @type {Pair} */ [k, v]) => [k, v]))]));
    let bad = 0;
    for (let i = 0; i < n; i++) {
      const l = byName.get(tap(i));
      if (!l || !l.flags.includes('UP') || l.master !== bridge(i, n) || String(l.group) !== String(PORT_GROUP)) bad++;
      if (!local.has(pub(i))) bad++;
      if (maps.get('pub2priv')?.get(pub(i)) !== priv(i) || maps.get('priv2pub')?.get(priv(i)) !== pub(i)) bad++;
    }
    const ms = performance.now() - t0;
    if (bad) throw new Error(`ip/nft re-apply: ${bad} objects differ`);
    return ms;
  },
  /** @this {State} @param {string} ns */
  async down(ns) {
    const t0 = performance.now();
    exec(ns, 'ip', ['-batch', this.files.ipDown]);
    exec(ns, 'nft', ['-f', this.files.nftDown]);
    return performance.now() - t0;
  },
  /** @this {State} */
  end() {
    rmSync(this.dir, { recursive: true, force: true });
  },
};
