// Where the cloud's desired state lives: the Store interface, the file store,
// and update() to run an operation through a store with compare-and-swap.
export type { Snapshot, Store, WatchOptions, WriteOptions } from './types.js';
export { ConflictError, LockTimeoutError, isConflict } from './errors.js';
export { FileStore, contentVersion, writeTextIf, type FileStoreOptions } from './file.js';
export { acquireLock, withLock, type Lock, type LockOptions } from './lock.js';
export { update, type UpdateOptions, type UpdateResult } from './update.js';
