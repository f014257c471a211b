// A transaction's nftables ops: an explicit recorder over a batch that only
// the transaction can send. Each verb validates as it is called; a bad one is
// remembered as the transaction's first error (numbered as the batch's own op
// #i) and fails the commit before anything is sent, like any other op. Views
// (render, ops, length) throw nothing unexpected and are not recorded.
import type { Batch, RuleSpec, SetRef } from '../nft/batch.js';
import type { ElementInput } from '../nft/build/elements.js';
import type { Op as NftOp } from '../nft/wire/ops.js';
import type { Chain, Family, NftSet, SetElement, Table } from '../nft/types.js';

type Elements = readonly (ElementInput | SetElement)[];

/** What diffNft and other planners write to: the recorder, or a plain Batch. */
export interface NftSink {
  addTable(t: Table): NftSink;
  deleteTable(t: Pick<Table, 'family' | 'name'>): NftSink;
  addChain(c: Chain): NftSink;
  deleteChain(c: Pick<Chain, 'family' | 'table' | 'name'>): NftSink;
  flushChain(c: Pick<Chain, 'family' | 'table' | 'name'>): NftSink;
  addRule(r: RuleSpec): NftSink;
  addSet(s: NftSet): NftSink;
  deleteSet(s: SetRef): NftSink;
  addElements(set: NftSet | SetRef, elems: Elements): NftSink;
  deleteElements(set: NftSet | SetRef, elems: Elements): NftSink;
  readonly length: number;
}

export class NftRecorder implements NftSink {
  /** `onError(err, i)`: op #i of the batch was refused before anything was sent. */
  constructor(
    private readonly batch: Batch,
    private readonly onError: (err: Error, nftIndex: number) => void,
  ) {}

  private record(fn: () => void): this {
    try {
      fn();
    } catch (err) {
      this.onError(err as Error, this.batch.length);
    }
    return this;
  }

  addTable(t: Table): this {
    return this.record(() => this.batch.addTable(t));
  }
  createTable(t: Table): this {
    return this.record(() => this.batch.createTable(t));
  }
  deleteTable(t: Pick<Table, 'family' | 'name'>): this {
    return this.record(() => this.batch.deleteTable(t));
  }
  /** Deletes every rule of every chain in the table. */
  flushTable(t: Pick<Table, 'family' | 'name'>): this {
    return this.record(() => this.batch.flushTable(t));
  }

  addChain(c: Chain): this {
    return this.record(() => this.batch.addChain(c));
  }
  createChain(c: Chain): this {
    return this.record(() => this.batch.createChain(c));
  }
  deleteChain(c: Pick<Chain, 'family' | 'table' | 'name'>): this {
    return this.record(() => this.batch.deleteChain(c));
  }
  flushChain(c: Pick<Chain, 'family' | 'table' | 'name'>): this {
    return this.record(() => this.batch.flushChain(c));
  }

  /** Appends a rule to its chain; with `position`, adds it after the rule with that handle. */
  addRule(r: RuleSpec, o: { position?: bigint } = {}): this {
    return this.record(() => this.batch.addRule(r, o));
  }
  /** Inserts a rule at the top of its chain; with `position`, before the rule with that handle. */
  insertRule(r: RuleSpec, o: { position?: bigint } = {}): this {
    return this.record(() => this.batch.insertRule(r, o));
  }
  /** Replaces the rule with handle `r.handle`. */
  replaceRule(r: RuleSpec): this {
    return this.record(() => this.batch.replaceRule(r));
  }
  deleteRule(r: { family: Family; table: string; chain: string; handle: bigint }): this {
    return this.record(() => this.batch.deleteRule(r));
  }

  addSet(s: NftSet): this {
    return this.record(() => this.batch.addSet(s));
  }
  createSet(s: NftSet): this {
    return this.record(() => this.batch.createSet(s));
  }
  deleteSet(s: SetRef): this {
    return this.record(() => this.batch.deleteSet(s));
  }
  flushSet(s: SetRef | NftSet): this {
    return this.record(() => this.batch.flushSet(s));
  }

  /** Adds elements; `set` is the set's definition, or a reference to a set added earlier in this transaction. */
  addElements(set: NftSet | SetRef, elems: Elements): this {
    return this.record(() => this.batch.addElements(set, elems));
  }
  createElements(set: NftSet | SetRef, elems: Elements): this {
    return this.record(() => this.batch.createElements(set, elems));
  }
  deleteElements(set: NftSet | SetRef, elems: Elements): this {
    return this.record(() => this.batch.deleteElements(set, elems));
  }

  /** nftables ops recorded (refused ones are not). */
  get length(): number {
    return this.batch.length;
  }
  /** The recorded ops, read-only. */
  get ops(): readonly NftOp[] {
    return this.batch.ops;
  }
  /** The recorded ops as nft commands (valid `nft -f` input). */
  render(): string {
    return this.batch.render();
  }
}
