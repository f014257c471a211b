// Test hooks: not part of the package's API (the root, src/index.ts, does not
// export them). The suite imports them from here.
//   commitWithHooks(tx, { failOp, failUndoOp })  the op (or its undo) at that
//     index is sent malformed, so the kernel itself refuses it (tx/fault.ts)
//   ExchangeFault  a netlink exchange made to fail for real part-way
export { commitWithHooks, type CommitHooks } from '../tx/transaction.js';
export type { ExchangeFault } from '../netlink/exchange.js';
