// What the agent integration tests compare and how they drive an agent: the
// namespace as the standard tools show it (the oracle a full reconcile must
// leave as it is), the VXLAN FDB entries eucanet makes, and an operation
// written to the store with the agent's sync of it awaited.
import type { SyncResult } from '../../src/agent/types.js';
import type { State } from '../../src/managed/types.js';
import type { FileStore } from '../../src/store/file.js';
import { update } from '../../src/store/update.js';
import { nsExec } from './netns.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Drops what changes by itself (timers, lifetimes): the rest is the kernel's configuration. */
export function steady(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(steady);
  if (v === null || typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) if (!/timer|_life_time|^used$|^updated$|operstate|^state$/.test(k)) out[k] = steady(x);
  return out;
}

/** The namespace as the standard tools show it: links, IPv4 addresses, FDB, nftables. */
export function kernelOf(ns: string): Record<string, unknown> {
  const j = (cmd: string, ...args: string[]) => steady(JSON.parse(nsExec(ns, cmd, args) || '[]'));
  return {
    links: j('ip', '-j', '-d', 'link', 'show'),
    addresses: j('ip', '-j', '-4', 'addr', 'show'),
    fdb: j('bridge', '-j', 'fdb', 'show'),
    nft: j('nft', '-j', 'list', 'ruleset'),
  };
}

/** The VXLAN devices' FDB entries eucanet makes (static, with a destination): "dev mac dst", sorted. */
export const fdbOf = (ns: string): string[] =>
  (JSON.parse(nsExec(ns, 'bridge', ['-j', 'fdb', 'show'])) as Array<{ ifname: string; mac: string; dst?: string }>)
    .filter((e) => e.dst !== undefined && e.ifname.startsWith('eucavx'))
    .map((e) => `${e.ifname} ${e.mac} ${e.dst}`)
    .sort();

/** Writes an operation and resolves with the agent's sync of it (`seen`: the agent's sync events, as they come). */
export async function writeAndSync(store: FileStore, seen: SyncResult[], op: (s: State) => unknown): Promise<SyncResult> {
  await sleep(250); // past the agent's minimum gap: a sync of its own
  const from = seen.length;
  const r = await update(store, op as never);
  for (const t0 = Date.now(); ; await sleep(10)) {
    const s = seen.slice(from).find((x) => x.version === r.version);
    if (s) return s;
    if (Date.now() - t0 > 15_000) throw new Error(`version ${r.version} not applied`);
  }
}
