// The cloud's operations as pure functions over the state document: each
// returns the new document (allocations filled in) and what changed, or throws
// a ValidationError naming the field and the value. No kernel, no files.
export { describeChange, formatRule, type Change } from './changes.js';
export { finish, type Op, type OpResult } from './result.js';
export { runInstance, terminateInstance } from './instances.js';
export { authorize, createGroup, deleteGroup, revoke } from './groups.js';
export { allocateAddress, associateAddress, disassociateAddress, releaseAddress } from './addresses.js';
