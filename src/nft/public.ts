// The `nft` namespace of the package root: nftables as the README documents
// it. Typed objects and a rule builder, batches (committed atomically through
// an Nft connection, or built without one and rendered), listings through
// Nft, and rendering as nft syntax. The codecs (encode/decode of messages and
// expressions), the attribute tables and the batch checker stay internal
// (src/nft/index.ts is the whole of it, for the tests).
export { openNft, Nft, type NftOptions } from './nft.js';
export { Batch, type CommitOptions as BatchCommitOptions, type RuleSpec, type SetRef } from './batch.js';
export type { Op as BatchOp } from './wire/ops.js';
export { rule, RuleBuilder, type MatchOptions } from './build/builder.js';
export type { LimitOptions, LogOptions, RejectOptions } from './build/actions.js';
export type { NatOptions } from './build/nat-target.js';
export { parseElements, parseVerdict, type ElementInput, type KeyInput, type DataInput } from './build/elements.js';
export {
  formatTime,
  renderChainHead,
  renderElement,
  renderElements,
  renderRule,
  renderRuleset,
  renderSetLines,
  renderVerdict,
  type Ruleset,
} from './render/ruleset.js';
export { render, renderBatch, renderOp } from './render/batch.js';
export { renderRuleBody } from './render/rule.js';
export type * from './types.js';
