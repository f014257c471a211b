// Where the cloud's desired state lives: the Store interface, the file store,
// the etcd store, and update() to run an operation through a store with
// compare-and-swap.
import type { EtcdStore, EtcdStoreOptions } from './etcd.js';

export type { Snapshot, Store, WatchOptions, WriteOptions } from './types.js';
export { ConflictError, EtcdError, LockTimeoutError, isConflict } from './errors.js';
export { FileStore, contentVersion, writeTextIf, type FileStoreOptions } from './file.js';
export { acquireLock, withLock, type Lock, type LockOptions } from './lock.js';
export { update, type UpdateOptions, type UpdateResult } from './update.js';
export type { EtcdStore, EtcdStoreOptions };

/**
 * An etcd store (etcd.ts). etcd's client (gRPC) is loaded on this first call,
 * so that importing eucanet stays light for those who do not use etcd.
 */
export async function etcdStore(opts: EtcdStoreOptions): Promise<EtcdStore> {
  return (await import('./etcd.js')).openEtcdStore(opts);
}
