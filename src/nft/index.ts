// nftables over netlink, all of it: the documented part (public.ts, what the
// package root exports) and the internals. Three parts, one folder each:
//   wire/    the codecs: message framing and one encoder/decoder per object
//            kind and per expression (wire/expr/)
//   build/   the builder: rules as users write them, values, elements, NAT
//            targets, lowering to expressions, validation
//   render/  the text: objects, rules and batches as nft syntax
// Around them: batch.ts (ops sent as one atomic batch), nft.ts (a connection),
// list.ts (dumps read back), verify.ts, and the shared types and names.
export * from './public.js';
// The same batch types under their internal names.
export type { CommitOptions } from './batch.js';
export type { Op } from './wire/ops.js';
// The internals the package root leaves out (tests and benchmarks use them).
export { attrPathName, describeAttribute } from './wire/batch-errors.js';
export { verifyOps } from './verify.js';
export { decodeGeneration, getGeneration, listChains, listElements, listRules, listRuleset, listSets, listTables } from './list.js';
export { decodeTable } from './wire/table.js';
export { decodeChain } from './wire/chain.js';
export { decodeRule } from './wire/rule.js';
export { decodeSet } from './wire/set.js';
export { decodeElements } from './wire/setelem.js';
export { decodeExpr, decodeExprs, encodeExpr, encodeExprs } from './wire/expr/index.js';
export { FIELDS, type Field, type FieldName } from './build/fields.js';
export { dataType, type DataType } from './datatypes.js';
export { validateChain, validateSet, validateTable } from './build/validate.js';
