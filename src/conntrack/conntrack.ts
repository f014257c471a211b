// Conntrack over one NETLINK_NETFILTER connection: list with a filter, delete
// one entry, flush by filter. No `conntrack` process.
import { DecodeError, NetlinkError } from '../errors.js';
import { Attrs } from '../netlink/reader.js';
import { CTA_STATS_GLOBAL_ENTRIES, NFGENMSG_LEN } from './constants.js';
import type { NetlinkConnection } from '../netlink/socket.js';
import { decodeEntry } from './entry.js';
import { compileFilter, type CompiledFilter } from './filter.js';
import { checkEntryRef, countRequest, deleteRequest, dumpRequest, flushRequest, type CtEntryRef } from './request.js';
import type { CtEntry, CtFilter, CtFlushResult } from './types.js';

const ENOENT = 2;

/** The entries the kernel sends for `c`'s kernel-side part, then matched here on the rest. */
async function dumpCompiled(conn: NetlinkConnection, c: CompiledFilter): Promise<CtEntry[]> {
  const msgs = await conn.dump(dumpRequest(c));
  const out: CtEntry[] = [];
  for (const m of msgs) {
    const e = decodeEntry(m);
    if (c.matches(e)) out.push(e);
  }
  return out;
}

/** Lists entries (filter checked first: ValidationError naming the field). */
export async function listConntrack(conn: NetlinkConnection, filter: CtFilter = {}): Promise<CtEntry[]> {
  return dumpCompiled(conn, compileFilter(filter));
}

/**
 * How many entries the connection's namespace holds (the kernel's per-namespace
 * count, as `conntrack -C`). Unlike a dump, which walks the whole hash table
 * (shared by every namespace: some 10 ms of kernel time at 262144 buckets even
 * when this namespace has no entry), it reads one counter.
 */
export async function countConntrack(conn: NetlinkConnection): Promise<number> {
  const [r] = await conn.runAll([countRequest()]);
  const m = r?.messages[0];
  const n = m ? Attrs.ofMessage(m, NFGENMSG_LEN, 'conntrack stats').u32be(CTA_STATS_GLOBAL_ENTRIES) : undefined;
  if (n === undefined) throw new DecodeError('conntrack stats', m?.offset ?? 0, 'no CTA_STATS_GLOBAL_ENTRIES in the answer');
  return n;
}

/** Deletes one entry by its original tuple (and id, zone when given). NetlinkError ENOENT if it is gone. */
export async function deleteConntrack(conn: NetlinkConnection, entry: CtEntryRef): Promise<void> {
  const { proto, family } = checkEntryRef(entry);
  await conn.runAll([deleteRequest(entry, proto, family)]);
}

/**
 * Deletes many entries in one pipelined exchange. An entry gone meanwhile
 * (ENOENT) is counted in `vanished`; any other failure is thrown (the first,
 * naming its entry) after every reply has been looked at.
 */
export async function deleteMany(conn: NetlinkConnection, entries: readonly CtEntryRef[]): Promise<{ deleted: number; vanished: number }> {
  const reqs = entries.map((e) => {
    const { proto, family } = checkEntryRef(e);
    return deleteRequest(e, proto, family);
  });
  const replies = await conn.run(reqs);
  let deleted = 0;
  let vanished = 0;
  let first: NetlinkError | undefined;
  let failed = 0;
  for (const r of replies) {
    if (!r.error) deleted++;
    else if (r.error.errno === ENOENT) vanished++;
    else {
      failed++;
      first ??= r.error;
    }
  }
  if (first) {
    first.message += ` (${failed} of ${entries.length} deletes failed; ${deleted} deleted, ${vanished} already gone)`;
    throw first;
  }
  return { deleted, vanished };
}

/**
 * Deletes every entry the filter selects. When the kernel can select them on
 * its own (family, mark, zone, status only), one flush request does it and
 * `deleted` is the count of a dump just before; otherwise the entries are
 * dumped, matched here and deleted by tuple and id in one pipelined exchange.
 */
export async function flushConntrack(conn: NetlinkConnection, filter: CtFilter = {}): Promise<CtFlushResult> {
  const c = compileFilter(filter);
  const entries = await dumpCompiled(conn, c);
  if (c.kernelOnly) {
    await conn.runAll([flushRequest(c)]);
    return { deleted: entries.length, vanished: 0, kernelSide: true };
  }
  return { ...(await deleteMany(conn, entries)), kernelSide: false };
}
