// A store (src/store/: the file store, etcd later) as the agent's source of
// state versions: read() is the store's read (validated by the store, so not
// validated again), allocated at the cost of what changed since the last
// version (allocateNext: a store's cache hands unchanged objects over as the
// same objects, and they keep their allocated form); the store's watch
// says when a new version is there. A version that fails validation comes
// back as `invalid` with the field named and, when the store said which
// version it was (its watch, or a `version` on the error), that version.
import { ValidationError } from '../errors.js';
import { allocateNext, type AllocatedPair } from '../managed/allocate-next.js';
import type { AllocatedState } from '../managed/types.js';
import type { FileStore } from '../store/file.js';
import type { Store } from '../store/types.js';
import { phase } from '../util/phases.js';
import type { StateRead, StateSource } from './types.js';

/** How many times each of warmUp()'s versions is allocated. */
export const WARM_UP_TURNS = 4;

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

  /**
   * The store's warm-up (its read of a changed version, in memory), then the
   * allocation of the versions a terminate and a run-instance make of the
   * last one read (its last instance taken away, then back): pure, the
   * allocation in hand stays. At 5000 instances these walk the list, and V8
   * optimised them during the first operations, in every agent at once.
   */
  warmUp(): void {
    (this.store as Partial<Pick<FileStore, 'warmUp'>>).warmUp?.();
    const last = this.last;
    const list = last?.input.instances;
    // Only where a version is allocated at the cost of what changed (allocateNext's path for a store's cache).
    if (!last?.full || !list?.length) return;
    const fewer = { ...last.input, instances: list.slice(0, -1) };
    try {
      // Several times: V8 optimises a function after a few calls' worth of loop turns.
      for (let i = 0; i < WARM_UP_TURNS; i++) allocateNext(allocateNext(last, fewer), last.input);
    } catch {
      // A warm-up never fails the agent: the real version is allocated as usual.
    }
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
