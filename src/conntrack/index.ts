// conntrack over ctnetlink (NFNL_SUBSYS_CTNETLINK): protocol knowledge, like rtnl/ and nft/.
export { countConntrack, deleteConntrack, deleteMany, flushConntrack, listConntrack } from './conntrack.js';
export { decodeEntry, statusNames } from './entry.js';
export { compileFilter, type CompiledFilter } from './filter.js';
export { checkEntryRef, deleteRequest, dumpRequest, flushRequest, type CtEntryRef } from './request.js';
export { deleteCommand } from './render.js';
export type { CtEntry, CtFilter, CtFlushResult, CtProtocol, CtStatusName, CtTcpState, CtTuple, CtMasked, CtTupleFilter } from './types.js';
