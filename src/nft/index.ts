// nftables over netlink: typed tables, chains, rules, sets and elements,
// written in atomic batches, read back, and rendered as nft syntax.
export { openNft, Nft, type NftOptions } from './nft.js';
export { Batch, type CommitOptions, type RuleSpec, type SetRef } from './batch.js';
export type { Op } from './ops.js';
export { attrPathName, describeAttribute } from './batch-errors.js';
export { verifyOps } from './verify.js';
export { rule, RuleBuilder, type MatchOptions } from './builder.js';
export type { LimitOptions, LogOptions, RejectOptions } from './builder-actions.js';
export type { NatOptions } from './nat-target.js';
export { parseElements, parseVerdict, type ElementInput, type KeyInput, type DataInput } from './elements.js';
export { decodeGeneration, getGeneration, listChains, listElements, listRules, listRuleset, listSets, listTables } from './list.js';
export {
  formatTime, renderChainHead, renderElement, renderElements, renderRule, renderRuleset, renderSetLines, renderVerdict,
  type Ruleset,
} from './render.js';
export { render, renderBatch, renderOp } from './render-batch.js';
export { renderRuleBody } from './render-rule.js';
export { decodeTable } from './table.js';
export { decodeChain } from './chain.js';
export { decodeRule } from './rule.js';
export { decodeSet } from './set.js';
export { decodeElements } from './setelem.js';
export { decodeExpr, decodeExprs, encodeExpr, encodeExprs } from './expr/index.js';
export { FIELDS, type Field, type FieldName } from './fields.js';
export { dataType, type DataType } from './datatypes.js';
export { validateChain, validateSet, validateTable } from './validate.js';
export type * from './types.js';
