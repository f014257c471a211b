// The contract every expression file fulfils. An expression on the wire:
//
//   NFTA_LIST_ELEM (nested) {
//     NFTA_EXPR_NAME  string   "payload", "cmp", ...
//     NFTA_EXPR_DATA  nested   the expression's own attributes
//   }
import type { Attrs } from '../../../netlink/reader.js';
import type { NlWriter } from '../../../netlink/writer.js';
import type { Expr } from '../../types.js';

export interface EncodeContext {
  /** NFTA_SET_ID of a set created earlier in the same batch, for lookups by id. */
  setId(name: string): number | undefined;
}

export interface ExprCodec<E extends Expr = Expr> {
  /** The kernel's expression name (NFTA_EXPR_NAME). */
  readonly name: string;
  /** uapi attribute names by number, for naming the attribute an error points at. */
  readonly attrs: readonly string[];
  /** Writes the attributes inside NFTA_EXPR_DATA. */
  encode(w: NlWriter, e: E, ctx: EncodeContext): void;
  /**
   * Reads them back. Throws NoTypedForm for a well-formed expression the typed
   * form cannot hold (the caller keeps it raw), DecodeError for malformed bytes.
   */
  decode(a: Attrs): E;
}

/** A well-formed expression whose shape the typed form cannot hold (an unknown key, a missing attribute). */
export class NoTypedForm extends Error {
  override readonly name = 'NoTypedForm';
}

/** Looks a string up in a table of names indexed by number. */
export function nameOf<T extends string>(names: readonly T[], n: number | undefined, what: string): T {
  const v = n === undefined ? undefined : names[n];
  if (v === undefined) throw new NoTypedForm(`nft: unknown ${what} ${n}`);
  return v;
}

export function indexOf<T extends string>(names: readonly T[], v: T, what: string): number {
  const i = names.indexOf(v);
  if (i < 0) throw new Error(`nft: unknown ${what} ${v}`);
  return i;
}

export function req<T>(v: T | undefined, what: string): T {
  if (v === undefined) throw new NoTypedForm(`nft: missing ${what}`);
  return v;
}
