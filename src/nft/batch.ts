// A transaction: typed ops, validated as they are added, sent as one
// NFNL_MSG_BATCH_BEGIN .. NFNL_MSG_BATCH_END batch in one sendto(). The kernel
// applies it whole or not at all.
//
//   NFNL_MSG_BATCH_BEGIN  nlmsg_type 0x10, nfgenmsg { AF_UNSPEC, NFNETLINK_V0, res_id = htons(NFNL_SUBSYS_NFTABLES) }
//                         [NFNL_BATCH_GENID be32: fail with ERESTART unless the ruleset is still at this generation]
//   op 0 .. op n-1        NFT_MSG_NEW* / NFT_MSG_DEL*; the last one carries NLM_F_ACK
//   NFNL_MSG_BATCH_END    nlmsg_type 0x11, same nfgenmsg
//
// The kernel processes the batch inside sendto() (nfnetlink_rcv_batch): ops
// that fail are answered with an NLMSG_ERROR each, ops with NLM_F_ACK with an
// ack, a stale generation with ERESTART on the BEGIN message and a failed
// commit with an error on the END message. So one ack on the last op makes
// success observable and one reply is always enough to wait for.
import { NLM_F_ACK, NLM_F_REQUEST, NETLINK_NETFILTER } from '../netlink/constants.js';
import { ValidationError } from '../errors.js';
import type { NetlinkConnection, Request } from '../netlink/socket.js';
import { NlWriter } from '../netlink/writer.js';
import { batchError, opRequest } from './wire/batch-errors.js';
import { RuleBuilder } from './build/builder.js';
import { NFNETLINK_V0, NFNL_BATCH_GENID, NFNL_MSG_BATCH_BEGIN, NFNL_MSG_BATCH_END, NFNL_SUBSYS_NFTABLES, NFPROTO_UNSPEC } from './wire/constants.js';
import { parseElements, type ElementInput } from './build/elements.js';
import { encodeOp, messageCount, type BatchContext, type Op } from './wire/ops.js';
import { renderBatch } from './render/batch.js';
import { keyLen } from './wire/set.js';
import { chunkElements, toWire, type ElemVerb } from './wire/setelem.js';
import type { Chain, Expr, Family, NftSet, Rule, SetElement, Table } from './types.js';
import { validateChain, validateFamily, validateName, validateRuleTarget, validateSet, validateTable } from './build/validate.js';
import { validateExprs } from './build/validate.js';
import { verifyOps } from './verify.js';

export interface RuleSpec {
  family: Family;
  table: string;
  chain: string;
  exprs: readonly Expr[] | RuleBuilder;
  comment?: string;
  /** The rule to replace (replaceRule). */
  handle?: bigint;
}
export interface SetRef {
  family: Family;
  table: string;
  name: string;
}
export interface CommitOptions {
  /** Ruleset generation the batch was built against (see generation()); a stale one fails with ERESTART. */
  genid?: number;
  /**
   * Check first that every table, chain, jump target and set the batch names
   * exists (in the kernel or earlier in the batch), refusing with a
   * ValidationError before sending; the commit then carries the generation
   * that was checked, so a change in between fails with ERESTART.
   */
  verify?: boolean;
}

/**
 * A batch of at most this many bytes (a table and 500 map elements: 2-10 ms of kernel work in a fresh namespace,
 * measured under load) is sent from the JavaScript thread when its connection is idle, sparing the hop to a
 * libuv worker and back: two thread wake-ups, each of which may wait for a CPU on a busy machine.
 */
export const SYNC_BATCH_BYTES = 16 * 1024;

const key = (family: string, table: string, name: string) => `${family}\0${table}\0${name}`;

/** A batch's bytes encoded ahead of commit() (Batch.encodeForCommit()); for the transaction layer, not a stable interface. */
export interface EncodedBatch {
  buf: Buffer;
  first: number;
  /** How many ops the batch had, and the generation asked for, when it was encoded. */
  ops: number;
  genid?: number;
}

export class Batch {
  readonly ops: Op[] = [];
  private readonly setIds = new Map<string, number>();
  private readonly sets = new Map<string, NftSet>();
  private nextSetId = 1;

  /** `conn` makes commit() available; without it the batch can still be encoded and rendered. */
  constructor(private readonly conn?: NetlinkConnection) {}

  get length(): number {
    return this.ops.length;
  }

  /** Netlink messages between BEGIN and END (long element lists take several). */
  get messages(): number {
    let n = 0;
    for (const op of this.ops) n += messageCount(op);
    return n;
  }

  /** For message `m` (0-based, after BEGIN): its op and the chunk of that op. */
  messageAt(m: number): { op: number; chunk: number } | undefined {
    for (let i = 0; i < this.ops.length; i++) {
      const n = messageCount(this.ops[i]);
      if (m < n) return { op: i, chunk: m };
      m -= n;
    }
    return undefined;
  }

  addTable(t: Table): this {
    return this.push({ kind: 'table', verb: 'add', table: validateTable(t) });
  }
  createTable(t: Table): this {
    return this.push({ kind: 'table', verb: 'create', table: validateTable(t) });
  }
  deleteTable(t: Pick<Table, 'family' | 'name'>): this {
    return this.push({ kind: 'table', verb: 'delete', table: validateTable({ family: t.family, name: t.name }) });
  }
  /** Deletes every rule of every chain in the table. */
  flushTable(t: Pick<Table, 'family' | 'name'>): this {
    validateTable({ family: t.family, name: t.name });
    return this.push({ kind: 'rule-delete', verb: 'flush', ref: { family: t.family, table: t.name } });
  }

  addChain(c: Chain): this {
    return this.push({ kind: 'chain', verb: 'add', chain: validateChain(c) });
  }
  createChain(c: Chain): this {
    return this.push({ kind: 'chain', verb: 'create', chain: validateChain(c) });
  }
  deleteChain(c: Pick<Chain, 'family' | 'table' | 'name'>): this {
    return this.push({ kind: 'chain', verb: 'delete', chain: validateChain({ family: c.family, table: c.table, name: c.name }) });
  }
  flushChain(c: Pick<Chain, 'family' | 'table' | 'name'>): this {
    validateChain({ family: c.family, table: c.table, name: c.name });
    return this.push({ kind: 'rule-delete', verb: 'flush', ref: { family: c.family, table: c.table, chain: c.name } });
  }

  /** Appends a rule to its chain; with `position`, adds it after the rule with that handle. */
  addRule(r: RuleSpec, o: { position?: bigint } = {}): this {
    return this.push({ kind: 'rule', verb: 'append', rule: this.rule(r), ...position(o.position) });
  }
  /** Inserts a rule at the top of its chain; with `position`, before the rule with that handle. */
  insertRule(r: RuleSpec, o: { position?: bigint } = {}): this {
    return this.push({ kind: 'rule', verb: 'insert', rule: this.rule(r), ...position(o.position) });
  }
  /** Replaces the rule with handle `r.handle`. */
  replaceRule(r: RuleSpec): this {
    const rule = this.rule(r);
    rule.handle = handle(r.handle, 'replaceRule handle');
    return this.push({ kind: 'rule', verb: 'replace', rule });
  }
  deleteRule(r: { family: Family; table: string; chain: string; handle: bigint }): this {
    validateRuleTarget(r);
    return this.push({
      kind: 'rule-delete',
      verb: 'delete',
      ref: { family: r.family, table: r.table, chain: r.chain, handle: handle(r.handle, 'deleteRule handle') },
    });
  }

  addSet(s: NftSet): this {
    return this.set('add', s);
  }
  createSet(s: NftSet): this {
    return this.set('create', s);
  }
  deleteSet(s: SetRef): this {
    return this.push({ kind: 'set', verb: 'delete', set: this.lookupSet(s), id: 0 });
  }
  flushSet(s: SetRef | NftSet): this {
    return this.push({ kind: 'set-flush', set: this.lookupSet(s) });
  }

  /** Adds elements; `set` is the set's definition, or a reference to a set added earlier in this batch. */
  addElements(set: NftSet | SetRef, elems: readonly (ElementInput | SetElement)[]): this {
    return this.elements('add', set, elems);
  }
  createElements(set: NftSet | SetRef, elems: readonly (ElementInput | SetElement)[]): this {
    return this.elements('create', set, elems);
  }
  deleteElements(set: NftSet | SetRef, elems: readonly (ElementInput | SetElement)[]): this {
    return this.elements('delete', set, elems);
  }

  /** Encodes BEGIN, the ops and END into `w`, with sequence numbers from `seq`. */
  encodeInto(w: NlWriter, seq: number, o: CommitOptions = {}): void {
    writeMarker(w, NFNL_MSG_BATCH_BEGIN, seq, o.genid);
    const ctx: BatchContext = { setId: (f, t, n) => this.setIds.get(key(f, t, n)) };
    const total = this.messages;
    let m = 0;
    for (const op of this.ops) {
      for (let c = 0, n = messageCount(op); c < n; c++, m++) {
        encodeOp(w, op, (seq + 1 + m) >>> 0, m === total - 1 ? NLM_F_ACK : 0, ctx, c);
      }
    }
    writeMarker(w, NFNL_MSG_BATCH_END, (seq + total + 1) >>> 0, undefined);
  }

  /** The whole batch as bytes (for dry runs and tests). */
  encode(seq = 0, o: CommitOptions = {}): Buffer {
    const w = new NlWriter(1024 + this.ops.length * 256);
    this.encodeInto(w, seq, o);
    return Buffer.from(w.bytes());
  }

  /** The batch as nft commands, valid input for `nft -f`. */
  render(): string {
    return renderBatch(this.ops);
  }

  /** Sends the batch in one sendto() and waits for the kernel's verdict. Throws NetlinkError naming the failing op. */
  async commit(o: CommitOptions = {}, encoded?: EncodedBatch): Promise<void> {
    const conn = this.connection();
    if (this.ops.length === 0) return;
    if (o.verify) {
      const genid = await verifyOps(conn, this.ops);
      o = { ...o, genid: o.genid ?? genid };
    }
    // Bytes encoded ahead (encode()) are sent as they are if they are still this batch with these options.
    const e = encoded && encoded.ops === this.ops.length && encoded.genid === o.genid ? encoded : this.encodeForCommit(o);
    const reply =
      e.buf.length <= SYNC_BATCH_BYTES && conn.idle
        ? conn.exchangeSync(e.buf, [e.buf.length], [1], false)
        : await conn.exchange(e.buf, [e.buf.length], [1], false);
    const err = batchError(this, reply, e.first, o);
    if (err) throw err;
  }

  /**
   * @internal The batch encoded for commit() now, with sequence numbers taken
   * from its connection: a transaction encodes it while its rtnetlink phases
   * wait for the kernel, and commit(o, encoded) then only sends it.
   */
  encodeForCommit(o: CommitOptions = {}): EncodedBatch {
    const conn = this.connection();
    const w = new NlWriter(4096 + this.ops.length * 256);
    const first = conn.nextSeq(this.messages + 2);
    this.encodeInto(w, first, o);
    return { buf: w.bytes(), first, ops: this.ops.length, ...(o.genid !== undefined ? { genid: o.genid } : {}) };
  }

  /** @internal The synchronous twin of commit(), for benchmarks only. */
  commitSync(o: CommitOptions = {}): void {
    const conn = this.connection();
    if (o.verify) throw new Error('nft batch: verify needs commit(), which can read the kernel first');
    if (this.ops.length === 0) return;
    const w = new NlWriter(4096 + this.ops.length * 256);
    const first = conn.nextSeq(this.messages + 2);
    this.encodeInto(w, first, o);
    const buf = w.bytes();
    const err = batchError(this, conn.exchangeSync(buf, [buf.length], [1], false), first, o);
    if (err) throw err;
  }

  /**
   * @internal
   * Op `i` as a netlink Request (describe, encode, attrName), for code that
   * works with Requests; attrName() names attribute paths of nft messages.
   */
  request(i: number): Request {
    const ctx: BatchContext = { setId: (f, t, n) => this.setIds.get(key(f, t, n)) };
    return opRequest(this.ops[i], ctx);
  }

  /** @internal NFTA_SET_ID given to a set created in this batch. */
  setIdOf(s: SetRef): number | undefined {
    return this.setIds.get(key(s.family, s.table, s.name));
  }

  private connection(): NetlinkConnection {
    if (!this.conn) throw new Error('nft batch: not bound to a connection (use openNft().batch())');
    if (this.conn.protocol !== NETLINK_NETFILTER) throw new Error('nft batch: connection is not NETLINK_NETFILTER');
    return this.conn;
  }

  private push(op: Op): this {
    this.ops.push(op);
    return this;
  }

  private rule(r: RuleSpec): Rule {
    validateRuleTarget(r);
    const builder = r.exprs instanceof RuleBuilder ? r.exprs : undefined;
    const exprs = builder ? builder.build(r.family) : validateExprs(r.exprs as readonly Expr[], `rule in ${r.table}/${r.chain}`);
    const rule: Rule = { family: r.family, table: r.table, chain: r.chain, exprs };
    const comment = r.comment ?? builder?.note;
    if (comment !== undefined) {
      if (typeof comment !== 'string' || Buffer.byteLength(comment) > 127) throw new ValidationError('comment', comment, 'expected at most 127 bytes');
      rule.comment = comment;
    }
    return rule;
  }

  private set(verb: 'add' | 'create', s: NftSet): this {
    const set = validateSet(s);
    const k = key(set.family, set.table, set.name);
    let id = this.setIds.get(k);
    if (id === undefined) this.setIds.set(k, (id = this.nextSetId++));
    this.sets.set(k, set);
    return this.push({ kind: 'set', verb, set, id });
  }

  private lookupSet(s: SetRef | NftSet): NftSet {
    validateFamily(s.family);
    validateName(s.table, 'table');
    validateName(s.name, 'set');
    if ('key' in s) return validateSet(s);
    const known = this.sets.get(key(s.family, s.table, s.name));
    return known ?? { ...s, key: 'integer', keyLen: 4 };
  }

  private elements(verb: ElemVerb, ref: NftSet | SetRef, inputs: readonly (ElementInput | SetElement)[]): this {
    const set = 'key' in ref ? validateSet(ref) : this.sets.get(key(ref.family, ref.table, ref.name));
    if (!set) throw new ValidationError('set', ref.name, 'unknown set: pass its definition (from listSets() or the one you created)');
    const elements = preParsed(inputs) ? checkParsed(set, inputs) : parseElements(set, inputs as readonly ElementInput[], verb === 'delete');
    if (elements.length === 0) return this;
    return this.push({ kind: 'elements', verb, set, elements, chunks: chunkElements(toWire(set, elements, verb)) });
  }
}

function writeMarker(w: NlWriter, type: number, seq: number, genid: number | undefined): void {
  w.beginMessage(type, NLM_F_REQUEST, seq, 0);
  w.rawU8(NFPROTO_UNSPEC);
  w.rawU8(NFNETLINK_V0);
  w.rawU16BE(NFNL_SUBSYS_NFTABLES);
  if (genid !== undefined) w.u32be(NFNL_BATCH_GENID, genid);
  w.endMessage();
}

function position(p: bigint | undefined): { position?: bigint } {
  return p === undefined ? {} : { position: handle(p, 'position') };
}

function handle(h: unknown, field: string): bigint {
  if (typeof h !== 'bigint' || h <= 0n || h >= 1n << 64n) throw new ValidationError(field, h, 'expected a rule handle (bigint > 0)');
  return h;
}

function preParsed(inputs: readonly unknown[]): inputs is readonly SetElement[] {
  const first = inputs[0] as { key?: unknown } | undefined;
  return typeof first === 'object' && first !== null && !Array.isArray(first) && Buffer.isBuffer(first.key);
}

function checkParsed(set: NftSet, elems: readonly SetElement[]): SetElement[] {
  const len = keyLen(set);
  for (let i = 0; i < elems.length; i++) {
    const e = elems[i];
    if (!Buffer.isBuffer(e.key) || e.key.length !== len || (e.keyEnd && e.keyEnd.length !== len)) {
      throw new ValidationError(`set ${set.name} element #${i} key`, e.key, `expected ${len} bytes`);
    }
  }
  return elems as SetElement[];
}
