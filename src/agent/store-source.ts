// A store (src/store/: the file store, etcd later) as the agent's source of
// state versions: read() is the store's read (validated by the store, so not
// validated again), allocated at the cost of what changed since the last
// version (allocateNext: a store's cache hands unchanged objects over as the
// same objects, and they keep their allocated form); the store's watch
// says when a new version is there. A version that fails validation comes
// back as `invalid` with the field named and, when the store said which
// version it was (its watch, or a `version` on the error), that version.
import { ValidationError } from '../errors.js';
import { allocateNext, type AllocatedPair } from '../managed/allocate.js';
import type { AllocatedState } from '../managed/types.js';
import type { FileStore } from '../store/file.js';
import type { Store } from '../store/types.js';
import { phase } from '../util/phases.js';
import type { StateRead, StateSource } from './types.js';

export class StoreSource implements StateSource {
  readonly name: string;
  /** The newest version the watch reported. */
  private seen?: string;
  private readonly aborts = new Set<AbortController>();
  /** The last version allocated (input and output). */
  private last?: AllocatedPair;

  constructor(readonly store: Store) {
    this.name = store.name;
  }

  async read(known?: { version: string; state: AllocatedState }, opts: { fresh?: boolean } = {}): Promise<StateRead> {
    try {
      const snap = await this.store.read(opts.fresh ? { fresh: true } : {});
      if (known && known.version === snap.version) return { version: snap.version, state: known.state };
      this.last = allocateNext(this.last, snap.state);
      phase('store: allocate');
      return { version: snap.version, state: this.last.output };
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      const v = (err as ValidationError & { version?: unknown }).version;
      return { version: typeof v === 'string' ? v : (this.seen ?? 'unknown'), invalid: err };
    }
  }

  warmUp(): void {
    (this.store as Partial<Pick<FileStore, 'warmUp'>>).warmUp?.();
  }

  watch(onChange: () => void): () => void {
    const ac = new AbortController();
    this.aborts.add(ac);
    void (async () => {
      try {
        for await (const v of this.store.watch({ signal: ac.signal })) {
          this.seen = v;
          onChange();
        }
      } catch {
        // A watch that fails ends; the periodic resync still reads the store.
      }
    })();
    return () => {
      ac.abort();
      this.aborts.delete(ac);
    };
  }
}
