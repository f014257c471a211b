// The cluster controller's conntrack step, run by applyRole after the network
// transaction: read the table, keep what matches the NAT maps, delete the rest
// (ct-reconcile.ts decides). It runs on every CC apply, changed or not, so an
// apply interrupted between the nft commit and this step is repaired by the
// next one. A failure here is a ConntrackApplyError: the network is applied.
import { countConntrack, deleteCommand, deleteMany, listConntrack } from '../conntrack/index.js';
import type { Handle } from '../handle.js';
import type { CtEntry } from '../conntrack/types.js';
import { natMapsOf, staleConntrack, type NatChange, type StaleEntry } from './ct-reconcile.js';
import type { AllocatedState } from './types.js';

/** What the conntrack step found and did. */
export interface ApplyConntrack {
  /** Entries the maps no longer match, as the `conntrack -D` command lines that delete them (with `# why`). */
  stale: string[];
  /** Entries deleted (0 on a dry run). */
  deleted: number;
  /** Entries gone on their own before their delete arrived. */
  vanished: number;
  /** Entries read (IPv4, filtered by the kernel). */
  scanned: number;
}

/** The conntrack step failed after the network was applied (exit 1): the next apply retries it. */
export class ConntrackApplyError extends Error {
  readonly code = 'ECONNTRACK';
  constructor(
    message: string,
    override readonly cause: unknown,
    /** What the network transaction did (mutating ops sent). */
    readonly ops: number,
  ) {
    super(message);
    this.name = 'ConntrackApplyError';
  }
}

/**
 * Each filtered dump walks the kernel's whole hash table (shared by every
 * namespace: 8-11 ms of CPU at 262144 buckets with a near-empty table, about
 * 20 ms with 23,000 entries on a loaded machine), which costs about what
 * copying out and decoding this many entries does (7-10 µs each, measured at
 * 23,000): a smaller table is read whole in one dump.
 */
const ENTRIES_PER_WALK = 1000;
/** More addresses than this to look at, and the step reads the whole table in one dump. */
const MAX_FILTERED_DUMPS = 8;

/**
 * The entries of the changed addresses (ct-reconcile.ts NatChange): by
 * original destination for public addresses, by original source for both,
 * each one dump the kernel filters (conntrack/filter.ts origAddr). Undefined
 * when one dump of the whole table (`count` entries) costs less.
 */
async function entriesOf(h: Handle, only: NatChange, count: number, perWalk: number): Promise<CtEntry[] | undefined> {
  const filters = [...[...only.pub].map((dst) => ({ dst })), ...[...only.pub, ...only.priv].map((src) => ({ src }))];
  if (filters.length > MAX_FILTERED_DUMPS || count < filters.length * perWalk) return undefined;
  const seen = new Map<string, CtEntry>();
  for (const orig of filters) {
    // An entry from one changed address to another comes in two dumps: kept once.
    for (const e of await listConntrack(h.ct, { family: 'ipv4', orig }))
      seen.set(`${e.id} ${e.protocol} ${e.orig.src} ${e.orig.sport} ${e.orig.dst} ${e.orig.dport} ${e.zone}`, e);
  }
  return [...seen.values()];
}

/**
 * The CC's entries that no longer match the state's NAT maps. With `only`
 * (the addresses whose mappings changed since the step last succeeded), only
 * their entries are read and judged: the others were judged the same way then.
 * `perWalk` (tests) sets the table size under which one whole dump is read instead.
 */
export async function staleFor(
  h: Handle,
  state: AllocatedState,
  only?: NatChange,
  perWalk = ENTRIES_PER_WALK,
): Promise<{ stale: StaleEntry[]; scanned: number }> {
  // The narrowest kernel filter that keeps every entry the reconciler may
  // delete is the family: the un-NATed entries it must catch carry no NAT
  // status bit, and a tuple filter (CTA_FILTER) matches single addresses only.
  // A namespace without entries (its count, one counter) is not dumped: a
  // dump walks the kernel's whole table, shared by every namespace.
  const count = await countConntrack(h.ct);
  if (count === 0) return { stale: [], scanned: 0 };
  const entries = (only && (await entriesOf(h, only, count, perWalk))) || (await listConntrack(h.ct, { family: 'ipv4' }));
  // An empty table (a fresh CC) needs neither the host's addresses nor the NAT maps.
  if (entries.length === 0) return { stale: [], scanned: 0 };
  const local = new Set((await h.addresses.list({ family: 4 })).map((a) => a.address));
  return { stale: staleConntrack(natMapsOf(state), entries, local), scanned: entries.length };
}

const line = (s: StaleEntry) => `${deleteCommand(s.entry)}  # ${s.reason}`;

/** Finds the stale entries (of the `only` addresses: staleFor) and (unless dryRun) deletes them in one pipelined exchange. */
export async function applyConntrack(h: Handle, state: AllocatedState, ops: number, dryRun = false, only?: NatChange): Promise<ApplyConntrack> {
  try {
    const { stale, scanned } = await staleFor(h, state, only);
    const out: ApplyConntrack = { stale: stale.map(line), deleted: 0, vanished: 0, scanned };
    if (dryRun || stale.length === 0) return out;
    const r = await deleteMany(
      h.ct,
      stale.map((s) => s.entry),
    );
    return { ...out, ...r };
  } catch (err) {
    if (dryRun) throw err;
    const why = (err instanceof Error ? err.message : String(err)).split('\n')[0];
    throw new ConntrackApplyError(
      `the network is applied (${ops} op${ops === 1 ? '' : 's'}) but the conntrack cleanup failed: ${why}; connections made under the old NAT maps may still be NATed the old way; the next apply retries the cleanup`,
      err,
      ops,
    );
  }
}
