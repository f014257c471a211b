// The incremental plan: only the sections of the desired state that changed
// since the last applied one (delta.ts) are read from the kernel and diffed,
// with the same diff functions a full plan uses (diff.ts, nft-diff.ts). What
// did not change is neither read nor compared: a drift there is left to the
// next full reconcile (the agent runs one on drift, on lost events, on its
// periodic resync and on SIGHUP). Links other than those asked about are
// never removed (diffState's `only`).
import type { Session } from '../session.js';
import { LinkGetRequest, decodeLink, type Link } from '../rtnl/link.js';
import { readSysctl } from '../sys/sysctl.js';
import type { Delta } from './delta.js';
import type { DesiredState } from './desired.js';
import { diffState, wantedNames, type KernelState } from './diff.js';
import { diffNft, readOwned, type Current, type DesiredNft } from './nft-diff.js';
import type { NftSink } from './nft-recorder.js';
import { parseElements } from '../nft/build/elements.js';
import { generationAndTables } from '../nft/list.js';
import type { Nft } from '../nft/nft.js';
import type { Table } from '../nft/types.js';
import { fdbLinks, foreignObjects, isOwnedTable, type Foreign, type OwnerScope } from './owner.js';
import { listAddresses, listFdb, listLinks, listRoutes } from './read.js';
import type { PlanOptions, ReconcilePlan } from './reconcile.js';
import { Transaction } from './transaction.js';
import type { Op } from './ops.js';
import { parseMac } from '../util/ip.js';

const okey = (o: { family: string; table: string; name: string }) => `${o.family} ${o.table} ${o.name}`;

/** Links by name, one pipelined exchange; a name the kernel does not know is left out. */
async function getLinks(h: Session, names: Iterable<string>): Promise<Link[]> {
  const reqs = [...names].map((n) => new LinkGetRequest(n));
  if (!reqs.length) return [];
  const out: Link[] = [];
  for (const rep of await h.rtnl.run(reqs)) {
    if (rep.error) {
      if (rep.error.code === 'ENODEV') continue;
      throw rep.error;
    }
    out.push(decodeLink(rep.messages[0]));
  }
  return out.sort((a, b) => a.index - b.index);
}

/** The desired state narrowed to what changed. */
export function narrowed(want: DesiredState, d: Delta): DesiredState {
  const out: DesiredState = { links: want.links ?? [], ports: (want.ports ?? []).filter((p) => d.ports.has(p.name)) };
  if (d.addresses) out.addresses = want.addresses ?? [];
  if (d.routes) out.routes = want.routes ?? [];
  if (d.links) out.fdb = want.fdb ?? [];
  const sys = want.sysctls ?? {};
  out.sysctls = Object.fromEntries(d.sysctls.filter((k) => k in sys).map((k) => [k, sys[k]]));
  return out;
}

/** The kernel's state of the changed sections only; `only` names the links the plan may remove. */
export async function readChanged(h: Session, want: DesiredState, d: Delta, scope?: OwnerScope): Promise<{ cur: KernelState; only: Set<string> }> {
  const only = new Set([...d.linkNames, ...d.ports]);
  // Read too: the links the desired links name (a parent, a VXLAN's device,
  // a master), which the diff compares by name.
  const named = new Set(only);
  // (A walk over thousands of ports on a node: no array made per port.)
  const refs = (l: { parent?: unknown; device?: unknown; master?: unknown }) => {
    if (typeof l.parent === 'string') named.add(l.parent);
    if (typeof l.device === 'string') named.add(l.device);
    if (typeof l.master === 'string') named.add(l.master);
  };
  for (const l of want.links ?? []) refs(l);
  for (const p of want.ports ?? []) refs(p);
  // The FDB is read only when the links changed; otherwise its entries are added and deleted from the delta (fdbOps).
  const fdb = d.links;
  // Addresses, routes and FDB entries name their links by ifindex: with any of them, every link is read.
  const linksRead = d.links || d.addresses || d.routes || fdb ? listLinks(h) : getLinks(h, named);
  const fdbRead = fdb
    ? linksRead.then(async (links) => (await Promise.all(fdbLinks(links, scope).map((l) => listFdb(h, { dev: l.index })))).flat())
    : Promise.resolve(undefined);
  const [links, addresses, routes, entries] = await Promise.all([
    linksRead,
    d.addresses ? listAddresses(h) : Promise.resolve([]),
    d.routes ? listRoutes(h, { table: 'all' }) : Promise.resolve([]),
    fdbRead,
  ]);
  const sysctls: Record<string, string> = {};
  for (const key of d.sysctls) {
    try {
      sysctls[key] = readSysctl(h.netns, key);
    } catch (err) {
      if ((err as { code?: string }).code !== 'ENOENT') throw err;
    }
  }
  const cur: KernelState = { links, addresses, routes, sysctls };
  if (entries !== undefined) cur.fdb = entries;
  return { cur, only };
}

/** Eucanet's tables (of `listed`, when the caller has them), and of them only the chains (with their rules) that changed. */
export async function readChangedNft(nft: Nft, d: Delta['nft'], keep: (t: Table) => boolean, listed?: Table[]): Promise<Current & { skipped: Table[] }> {
  const owned = (listed ?? (await nft.listTables())).filter(isOwnedTable);
  const tables = owned.filter(keep);
  const cur: Current & { skipped: Table[] } = { tables, chains: [], sets: [], rules: [], elements: new Map(), skipped: owned.filter((t) => !keep(t)) };
  for (const t of tables) {
    if (![...d.chains].some((k) => k.startsWith(`${t.family} ${t.name} `))) continue;
    for (const c of await nft.listChains(t.family, t.name)) {
      if (!d.chains.has(okey(c))) continue;
      cur.chains.push(c);
      cur.rules.push(...(await nft.listRules(t.family, t.name, c.name)));
    }
  }
  return cur;
}

/** The element changes of the sets whose elements changed, as batch ops (not read from the kernel: see delta.ts). */
function elementOps(want: DesiredNft, d: Delta['nft'], b: NftSink): void {
  for (const [k, ch] of d.sets) {
    const s = want.sets.find((x) => okey(x) === k);
    if (!s) continue;
    const { elements: _e, ...def } = s;
    if (ch.del.length)
      b.deleteElements(
        def,
        parseElements(def, ch.del).map((e) => ({ key: e.key, ...(e.keyEnd ? { keyEnd: e.keyEnd } : {}) })),
      );
    if (ch.add.length) b.addElements(def, ch.add);
  }
}

/**
 * The FDB entries added and removed, as ops, without reading the FDB: an
 * entry is appended to a flood list (all-zeros or multicast MAC) and added
 * otherwise (an entry new since the last applied state: NLM_F_EXCL, undone
 * by a delete; a replace would need the FDB's pre-image for its undo, a dump
 * of every entry, thousands on a CC); one that is already there to add, or
 * not there to delete, fails the commit (and the agent falls back to a full
 * reconcile, which replaces as diffFdb does).
 */
export function fdbOps(c: NonNullable<Delta['fdbChange']>): Op[] {
  const out: Op[] = [];
  // A delete's entry is the one the last applied plan added: its undo needs no read of the FDB.
  for (const spec of c.del) out.push({ op: 'fdb.delete', spec: { self: true, state: 'permanent', ...spec }, known: true });
  for (const spec of c.add) {
    const mac = parseMac('lladdr', spec.lladdr);
    const list = mac.every((b) => b === 0) || (mac[0] & 1) === 1;
    out.push({ op: list ? 'fdb.append' : 'fdb.add', spec: { self: true, state: 'permanent', ...spec } });
  }
  return out;
}

function narrowedNft(want: DesiredNft, d: Delta['nft']): DesiredNft {
  return {
    tables: want.tables,
    chains: want.chains.filter((c) => d.chains.has(okey(c))),
    sets: [], // their elements: elementOps
    rules: want.rules.filter((r) => d.chains.has(`${r.family} ${r.table} ${r.chain}`)),
  };
}

/**
 * The plan of an incremental reconcile: `plan` (reconcile.ts) restricted to
 * what `d` says changed. The same transaction and commit follow, so a failure
 * rolls back as a full reconcile's does.
 */
export async function planChanged(h: Session, want: DesiredState, d: Delta, opts: PlanOptions = {}): Promise<ReconcilePlan> {
  const { scope } = opts;
  const keep = scope && !scope.force ? (t: { name: string }) => scope.tables.includes(t.name) : () => true;
  const nftWant = want.nft ?? { tables: [], chains: [], sets: [], rules: [] };
  const nftRead = (async () => {
    if (d.nft.whole) {
      const genid = await h.nft.generation();
      return { genid, cur: await readOwned(h.nft, keep) };
    }
    // The generation and the tables in one exchange.
    const { genid, tables } = await generationAndTables(h.nft.conn);
    return { genid, cur: await readChangedNft(h.nft, d.nft, keep, tables) };
  })();
  // A version that changed only nftables (a rule authorized or revoked, a
  // NAT map element) sends no rtnetlink request at all.
  const rtnlSame = !d.links && !d.ports.size && !d.addresses && !d.routes && !d.fdb && !d.sysctls.length;
  const [read, { genid, cur: nftCur }] = await Promise.all([rtnlSame ? undefined : readChanged(h, want, d, scope), nftRead]);
  const removals = new Transaction(h);
  const changes = new Transaction(h);
  const foreign: Foreign[] = [];
  let released: string[] | undefined;
  if (read) {
    const part = narrowed(want, d);
    const diff = diffState(read.cur, part, scope, read.only, undefined, opts.releaseTaps);
    if (diff.released) released = diff.released;
    if (scope) foreign.push(...foreignObjects(read.cur, scope, opts.ownerOfProto ?? (() => undefined), wantedNames(part)));
    for (const op of diff.removals) removals.add(op);
    for (const op of diff.changes) changes.add(op);
  }
  if (!d.links && d.fdbChange) for (const op of fdbOps(d.fdbChange)) changes.add(op);
  if (nftCur.tables.length || nftWant.tables.length) diffNft(nftCur, d.nft.whole ? nftWant : narrowedNft(nftWant, d.nft), changes.nft);
  if (!d.nft.whole) elementOps(nftWant, d.nft, changes.nft);
  return { removals, changes, size: removals.size + changes.size, genid, foreign, ...(released ? { released } : {}) };
}
