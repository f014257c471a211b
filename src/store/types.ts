// The store: where the cloud's desired state lives, with a version for
// compare-and-swap and a watch for new versions. The file store (file.ts) is
// the one-machine default; an etcd store implements the same interface.
//
// Versions are opaque strings, compared for equality only. The file store's
// is a hash of the file's bytes (so any writer, eucanet or an editor, makes a
// new version, and rewriting the same content makes none); etcd's is its
// revision in decimal, which also orders versions (Snapshot.revision).
import type { State } from '../managed/types.js';

export interface Snapshot {
  state: State;
  version: string;
  /** A number that grows with every change, where the store has one (etcd's revision); absent for the file store. */
  revision?: number;
}

export interface ReadOptions {
  /** Read the store itself, not a cache of it (a periodic resync's check that no change was missed). */
  fresh?: boolean;
}

export interface WriteOptions {
  /** Write only if the store is still at this version, else throw ConflictError. "" means: only if there is no state yet. */
  ifVersion?: string;
}

export interface WatchOptions {
  /** Yield every version other than this one (default: the version when watch() is called, which is not yielded). */
  since?: string;
  /** Stops the watch (the iterator ends). */
  signal?: AbortSignal;
}

export interface Store {
  /** Where the state is, for messages ("/etc/eucanet/cloud.json", "etcd http://...:2379 /eucanet/default"). */
  readonly name: string;
  /** The current state (validated) and its version. */
  read(opts?: ReadOptions): Promise<Snapshot>;
  /** Writes a state (validated first; a ValidationError writes nothing); returns the new version. */
  write(next: State, opts?: WriteOptions): Promise<string>;
  /**
   * New versions as they appear. A slow consumer gets the latest one, not
   * every one in between, and never misses the latest. Read the state with
   * read() (a version it yields may already be superseded: read() has the newest).
   */
  watch(opts?: WatchOptions): AsyncIterableIterator<string>;
  /**
   * Runs `fn` while no other writer that uses this store's lock can write
   * (a write inside `fn` then needs no lock of its own), where the store has
   * such a lock (the file store's lock file; an etcd store has none: its
   * transactions are the compare-and-swap). update() uses it so that writers
   * queue instead of redoing their work after conflicts.
   */
  exclusive?<T>(fn: () => Promise<T>): Promise<T>;
  /** Ends every watch and frees what the store holds. */
  close(): Promise<void>;
}
