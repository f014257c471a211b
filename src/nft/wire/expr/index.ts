// The expression list of a rule:
//
//   NFTA_RULE_EXPRESSIONS (nested) {
//     NFTA_LIST_ELEM (nested) { NFTA_EXPR_NAME string, NFTA_EXPR_DATA nested {...} }
//     ...
//   }
//
// One file per expression holds its wire layout; this file dispatches.
import type { Attrs } from '../../../netlink/reader.js';
import type { NlWriter } from '../../../netlink/writer.js';
import { NFTA_EXPR_DATA, NFTA_EXPR_NAME, NFTA_LIST_ELEM } from '../constants.js';
import type { Expr, RawExpr } from '../../types.js';
import { bitwise } from './bitwise.js';
import { cmp } from './cmp.js';
import { NoTypedForm, type EncodeContext, type ExprCodec } from './codec.js';
import { counter } from './counter.js';
import { ct } from './ct.js';
import { immediate } from './immediate.js';
import { limit } from './limit.js';
import { log } from './log.js';
import { lookup } from './lookup.js';
import { masq } from './masq.js';
import { meta } from './meta.js';
import { nat } from './nat.js';
import { payload } from './payload.js';
import { range } from './range.js';
import { redir } from './redir.js';
import { reject } from './reject.js';

export type { EncodeContext, ExprCodec } from './codec.js';

const CODECS: Record<Exclude<Expr['kind'], 'raw'>, ExprCodec> = {
  meta,
  payload,
  cmp,
  bitwise,
  range,
  lookup,
  ct,
  immediate,
  nat,
  masq,
  redir,
  counter,
  log,
  limit,
  reject,
};
const BY_NAME = new Map<string, ExprCodec>(Object.values(CODECS).map((c) => [c.name, c]));

/** The codec for a kernel expression name, if this library knows it. */
export function codecByName(name: string): ExprCodec | undefined {
  return BY_NAME.get(name);
}

export const NO_SETS: EncodeContext = { setId: () => undefined };

export function exprName(e: Expr): string {
  return e.kind === 'raw' ? e.name : CODECS[e.kind].name;
}

/** Writes one NFTA_LIST_ELEM for `e`. */
export function encodeExpr(w: NlWriter, e: Expr, ctx: EncodeContext): void {
  const elem = w.nestStart(NFTA_LIST_ELEM, true);
  if (e.kind === 'raw') {
    w.str(NFTA_EXPR_NAME, e.name);
    const d = w.nestStart(NFTA_EXPR_DATA, true);
    w.ensure(e.data.length + 3);
    w.buf.set(e.data, w.pos);
    w.pos += e.data.length;
    w.nestEnd(d);
  } else {
    const codec = CODECS[e.kind];
    w.str(NFTA_EXPR_NAME, codec.name);
    const d = w.nestStart(NFTA_EXPR_DATA, true);
    codec.encode(w, e, ctx);
    w.nestEnd(d);
  }
  w.nestEnd(elem);
}

/** Writes nest `type` holding the whole list. */
export function encodeExprs(w: NlWriter, type: number, exprs: readonly Expr[], ctx: EncodeContext): void {
  const list = w.nestStart(type, true);
  for (let i = 0; i < exprs.length; i++) encodeExpr(w, exprs[i], ctx);
  w.nestEnd(list);
}

/** Decodes one NFTA_LIST_ELEM; expressions without a typed form come back raw. */
export function decodeExpr(elem: Attrs): Expr {
  const name = elem.str(NFTA_EXPR_NAME) ?? '';
  const data = elem.nested(NFTA_EXPR_DATA);
  const codec = BY_NAME.get(name);
  if (codec && data) {
    try {
      return codec.decode(data);
    } catch (err) {
      // A shape the typed form cannot hold (e.g. a future attribute): keep it
      // raw. Malformed bytes (DecodeError) and bugs go on up.
      if (!(err instanceof NoTypedForm)) throw err;
    }
  }
  const raw: RawExpr = { kind: 'raw', name, data: Buffer.from(elem.bytes(NFTA_EXPR_DATA) ?? Buffer.alloc(0)) };
  return raw;
}

export function decodeExprs(list: Attrs | undefined): Expr[] {
  return list ? list.list().map(decodeExpr) : [];
}
