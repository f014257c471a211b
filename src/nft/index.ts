// nftables over netlink, all of it (the package root exports the documented
// part, public.ts). Three parts, one folder each:
//   wire/    the codecs: message framing and one encoder/decoder per object
//            kind and per expression (wire/expr/)
//   build/   the builder: rules as users write them, values, elements, NAT
//            targets, lowering to expressions, validation
//   render/  the text: objects, rules and batches as nft syntax
// Around them: batch.ts (ops sent as one atomic batch), nft.ts (a connection),
// list.ts (dumps read back), verify.ts, and the shared types and names.
export { openNft, Nft, type NftOptions } from './nft.js';
export { Batch, type CommitOptions, type RuleSpec, type SetRef } from './batch.js';
export type { Op } from './wire/ops.js';
export { attrPathName, describeAttribute } from './wire/batch-errors.js';
export { verifyOps } from './verify.js';
export { rule, RuleBuilder, type MatchOptions } from './build/builder.js';
export type { LimitOptions, LogOptions, RejectOptions } from './build/actions.js';
export type { NatOptions } from './build/nat-target.js';
export { parseElements, parseVerdict, type ElementInput, type KeyInput, type DataInput } from './build/elements.js';
export { decodeGeneration, getGeneration, listChains, listElements, listRules, listRuleset, listSets, listTables } from './list.js';
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
export { decodeTable } from './wire/table.js';
export { decodeChain } from './wire/chain.js';
export { decodeRule } from './wire/rule.js';
export { decodeSet } from './wire/set.js';
export { decodeElements } from './wire/setelem.js';
export { decodeExpr, decodeExprs, encodeExpr, encodeExprs } from './wire/expr/index.js';
export { FIELDS, type Field, type FieldName } from './build/fields.js';
export { dataType, type DataType } from './datatypes.js';
export { validateChain, validateSet, validateTable } from './build/validate.js';
export type * from './types.js';
