// A state into a cloud that has none, when etcd refuses it as one transaction
// (more than --max-txn-ops operations or --max-request-bytes bytes): every key
// but `settings` first, in transactions that fit etcd's default limits, then
// `settings` last. A state is there for readers only once its `settings` key
// is (fromKeys: no settings, no state), so they see no state, then all of it:
// the import is still one change for them. Each transaction compares that
// nothing else changed under the prefix since the previous one and that
// `settings` is still absent; a writer that gets in between ends the import
// with a conflict, and the keys already written stay invisible (no settings)
// until a later put replaces or deletes them.
import type { Etcd3, ICompare, IRequestOp } from 'etcd3';
import { txn, unchangedSince } from './etcd-client.js';

/** Under etcd's defaults (128 operations, 1.5 MiB per request), with room to spare. */
const CHUNK_OPS = 100;
const CHUNK_BYTES = 1024 * 1024;

const opBytes = (op: IRequestOp) => (op.request_put?.key?.length ?? 0) + (op.request_put?.value?.length ?? 0) + (op.request_delete_range?.key?.length ?? 0);

/** The ops cut into chunks of at most CHUNK_OPS operations and about CHUNK_BYTES bytes. */
export function chunks(ops: IRequestOp[]): IRequestOp[][] {
  const out: IRequestOp[][] = [];
  let cur: IRequestOp[] = [];
  let bytes = 0;
  for (const op of ops) {
    const b = opBytes(op);
    if (cur.length && (cur.length >= CHUNK_OPS || bytes + b > CHUNK_BYTES)) {
      out.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(op);
    bytes += b;
  }
  if (cur.length) out.push(cur);
  return out;
}

/**
 * Writes `ops` (no `settings` among them), then `last` (the `settings` put,
 * with the `deleted` marker if any), each chunk conditional on the previous.
 * Returns the revision of the last transaction, or undefined on a conflict.
 */
export async function stagedImport(
  client: Etcd3,
  prefix: string,
  from: number,
  ops: IRequestOp[],
  last: IRequestOp[],
  timeoutMs?: number,
): Promise<number | undefined> {
  const settingsAbsent: ICompare = { key: Buffer.from(`${prefix}settings`), target: 'Create', result: 'Equal', create_revision: 0 };
  let rev = from;
  for (const chunk of [...chunks(ops), last]) {
    const res = await txn(client, [unchangedSince(prefix, rev), settingsAbsent], chunk, timeoutMs);
    if (!res.succeeded) return undefined;
    rev = Number(res.header.revision);
  }
  return rev;
}
