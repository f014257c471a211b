// Turning the kernel's answer to a batch into one NetlinkError that names the
// failing op (its index and nft text), errno, the extended-ACK message, and
// the attribute the kernel pointed at, as "expression #3 (nat)
// NFTA_NAT_REG_ADDR_MIN" or "element #2 NFTA_SET_ELEM_KEY".
import { NLMSG_ERROR } from '../../netlink/constants.js';
import { NetlinkError } from '../../errors.js';
import { ERESTART } from '../../native.js';
import { splitMessages } from '../../netlink/reader.js';
import { decodeError, type Request } from '../../netlink/socket.js';
import { NlWriter, type TraceEntry } from '../../netlink/writer.js';
import type { Batch, CommitOptions } from '../batch.js';
import { CHAIN_ATTRS, HOOK_ATTRS } from './chain.js';
import { NFTA_CHAIN_HOOK, NFTA_EXPR_DATA, NFTA_RULE_EXPRESSIONS, NFTA_SET_ELEM_LIST_ELEMENTS, NFT_SET_ELEM_INTERVAL_END } from './constants.js';
import { codecByName, exprName } from './expr/index.js';
import { encodeOp, type BatchContext, type Op } from './ops.js';
import { describeOp } from '../render/batch.js';
import { RULE_ATTRS } from './rule.js';
import { SET_ATTRS } from './set.js';
import { SETELEM_ATTRS, SETELEM_LIST_ATTRS, type WireElement } from './setelem.js';
import { keyTypes } from './set.js';
import type { NftSet } from '../types.js';
import { formatValue } from '../build/values.js';
import { TABLE_ATTRS } from './table.js';
import { must } from '../../util/must.js';

function topAttrs(op: Op): readonly string[] {
  switch (op.kind) {
    case 'table':
      return TABLE_ATTRS;
    case 'chain':
      return CHAIN_ATTRS;
    case 'rule':
    case 'rule-delete':
      return RULE_ATTRS;
    case 'set':
      return SET_ATTRS;
    case 'set-flush':
    case 'elements':
      return SETELEM_LIST_ATTRS;
  }
}

const name = (names: readonly string[], t: number | undefined) => (t === undefined ? '' : (names[t] ?? String(t)));

/** A path of attribute types, named without list indexes ("NFTA_RULE_EXPRESSIONS/NFTA_LIST_ELEM/..."). */
export function attrPathName(op: Op, path: readonly number[]): string {
  const top = topAttrs(op);
  const out = [name(top, path[0])];
  if (op.kind === 'rule' && path[0] === NFTA_RULE_EXPRESSIONS && path.length > 1) {
    // Without the list position the expression is unknown, so its own attributes stay numbers.
    out.push('NFTA_LIST_ELEM', ...path.slice(2, 3).map((t) => name(['NFTA_EXPR_UNSPEC', 'NFTA_EXPR_NAME', 'NFTA_EXPR_DATA'], t)));
    out.push(...path.slice(3).map(String));
  }
  if (op.kind === 'chain' && path[0] === NFTA_CHAIN_HOOK && path.length > 1) out.push(name(HOOK_ATTRS, path[1]));
  if (op.kind === 'elements' && path[0] === NFTA_SET_ELEM_LIST_ELEMENTS && path.length > 1) {
    out.push('NFTA_LIST_ELEM', ...path.slice(2, 3).map((t) => name(SETELEM_ATTRS, t)));
  }
  return out.join('/');
}

/** Names the attribute at `offset` in message `chunk` of `op`, with list positions. */
export function describeAttribute(op: Op, offset: number, ctx: BatchContext, chunk = 0): string | undefined {
  const w = new NlWriter(1024);
  w.trace = [];
  encodeOp(w, op, 0, 0, ctx, chunk);
  const trace = w.trace;
  const hit = trace.find((t) => t.offset === offset);
  if (!hit) return undefined;
  const p = hit.path;
  if (op.kind === 'rule' && p[0] === NFTA_RULE_EXPRESSIONS && p.length >= 2) {
    const n = countBefore(trace, offset, (t) => t.path.length === 2 && t.path[0] === NFTA_RULE_EXPRESSIONS);
    const e = op.rule.exprs[n - 1];
    const ename = e ? exprName(e) : '?';
    const inner = p.length >= 4 && p[2] === NFTA_EXPR_DATA ? ` ${name(codecByName(ename)?.attrs ?? [], p[3])}` : '';
    return `expression #${n} (${ename})${inner}`;
  }
  if (op.kind === 'elements' && p[0] === NFTA_SET_ELEM_LIST_ELEMENTS && p.length >= 2) {
    const n = countBefore(trace, offset, (t) => t.path.length === 2 && t.path[0] === NFTA_SET_ELEM_LIST_ELEMENTS);
    let before = 0;
    for (let c = 0; c < chunk; c++) before += op.chunks[c].length;
    const e = op.chunks[chunk][n - 1];
    const what = e ? ` (${describeWireElement(op.set, e)})` : '';
    return `element #${before + n}${what}${p.length >= 3 ? ` ${name(SETELEM_ATTRS, p[2])}` : ''}`;
  }
  return attrPathName(op, p);
}

/** "key 10.0.0.0", "key 11.0.0.0, interval end": one wire element for people. */
function describeWireElement(set: NftSet, e: WireElement): string {
  const types = keyTypes(set);
  const key = types.length === 1 ? formatValue(types[0], e.key) : `0x${e.key.toString('hex')}`;
  return `key ${key}${e.flags & NFT_SET_ELEM_INTERVAL_END ? ', interval end' : ''}`;
}

function countBefore(trace: TraceEntry[], offset: number, pred: (t: TraceEntry) => boolean): number {
  let n = 0;
  for (const t of trace) if (t.offset <= offset && pred(t)) n++;
  return n;
}

/** An op as a Request (describe / encode / attrName), for code that works with Requests. */
export function opRequest(op: Op, ctx: BatchContext): Request {
  return {
    describe: () => describeOp(op),
    encode: (w, seq) => encodeOp(w, op, seq, 0, ctx),
    attrName: (path) => attrPathName(op, path),
  };
}

/** Reads the kernel's replies to a batch; returns the error to throw, if any. */
export function batchError(batch: Batch, reply: Buffer, first: number, o: CommitOptions): NetlinkError | undefined {
  const n = batch.messages;
  const ctx: BatchContext = { setId: (family, table, set) => batch.setIdOf({ family: family as never, table, name: set }) };
  const errors: NetlinkError[] = [];
  let acked = false;
  for (const m of splitMessages(reply)) {
    if (m.type !== NLMSG_ERROR) continue;
    const e = decodeError(m);
    const i = ((e.seq - first) >>> 0) - 1;
    if (i < -1 || i > n) continue;
    if (e.errno === 0) {
      if (i === n - 1) acked = true;
      continue;
    }
    errors.push(errorFor(batch, i, n, e, ctx, o));
  }
  if (errors.length === 0) {
    return acked ? undefined : new NetlinkError(62 /* ETIME */, { op: `nft batch of ${n} ops (no reply from the kernel)` });
  }
  errors.sort((a, b) => (a.opIndex ?? -1) - (b.opIndex ?? -1));
  const err = errors[0];
  if (errors.length > 1) Object.assign(err, { others: errors.slice(1) });
  return err;
}

/** The error for message `i` of `n` (-1: BEGIN, n: END). */
function errorFor(batch: Batch, i: number, n: number, e: ReturnType<typeof decodeError>, ctx: BatchContext, o: CommitOptions): NetlinkError {
  if (i === -1) {
    const op = e.errno === ERESTART && o.genid !== undefined ? `nft batch begin: generation ${o.genid} is stale (the ruleset changed)` : 'nft batch begin';
    return new NetlinkError(e.errno, { op, ...(e.msg ? { extack: e.msg } : {}) });
  }
  if (i === n) {
    return new NetlinkError(e.errno, { op: `nft batch commit (${batch.ops.length} ops)`, ...(e.msg ? { extack: e.msg } : {}) });
  }
  const at = must(batch.messageAt(i), `batch message ${i}`);
  const op = batch.ops[at.op];
  const details: ConstructorParameters<typeof NetlinkError>[1] = { op: describeOp(op), opIndex: at.op };
  if (e.msg) details.extack = e.msg;
  if (e.offset !== undefined) {
    details.attributeOffset = e.offset;
    const attr = describeAttribute(op, e.offset, ctx, at.chunk);
    if (attr) details.attribute = attr;
  }
  if (e.missType !== undefined) details.missingAttribute = name(topAttrs(op), e.missType);
  return new NetlinkError(e.errno, details);
}
