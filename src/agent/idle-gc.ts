// A collection of V8's young generation when the agent goes idle (the
// Agent's onIdle), once the young generation is filling: a new state version
// that concerns the host allocates megabytes at 5000 instances, so the
// scavenge that empties the young generation used to fall in the middle of a
// sync, adding 2-35 ms to it (more on a loaded machine). Run right after a
// sync instead, the next sync starts with room to allocate. Most versions
// concern an agent little or not at all (issue 17: every agent hears every
// version) and allocate 0.2 to 2 MB of the 16 MB the agent's young
// generation holds: a scavenge after each of them cost 0.5 to 3.6 ms of CPU
// (the roots and the old generation's pointers into the young one are walked
// whatever it holds) for nothing, so it runs only when a quarter of the young
// generation is used (`minShare`), and at least 2 MiB (`minBytes`): V8
// shrinks an idle process's young generation (to 1 MB and less), where a
// quarter is one small version and a sync that allocates megabytes meets
// scavenges anyway. `eucanet agent` uses it; a program that embeds the Agent
// decides for its own process.
//
// V8's gc() is not exposed by default: the flag is set at run time, the
// function taken from a new context (where V8 installs it), and the flag set
// back at once. A V8 code cache carries a hash of the flags it was made
// under, and one made under other flags is refused: `eucanet agent` saves
// its cache as it exits (cli/code-cache.ts), and with --expose-gc left set,
// every agent's start refused the last one's and compiled its whole bundle
// again. Done once, when a collection is first due (a new context costs
// milliseconds: not on an agent's way to its first sync).
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

type Gc = (opts: { type: 'minor' | 'major'; execution?: 'sync' | 'async' }) => void;

let gc: Gc | undefined;

/** The young generation's bytes in use and its room (V8's new space: the semi-space allocated into). */
export function youngGeneration(): { used: number; room: number } {
  const s = getHeapSpaceStatistics().find((x) => x.space_name === 'new_space');
  return s ? { used: s.space_used_size, room: s.space_used_size + s.space_available_size } : { used: 0, room: 0 };
}

/** A function that runs a minor (young generation) collection now, if at least `minShare` of the young generation and `minBytes` are in use. */
export function minorGc(minShare = 0.25, minBytes = 2 * 1024 * 1024): () => void {
  return () => {
    const y = youngGeneration();
    if (y.used >= minBytes && y.used >= y.room * minShare) exposedGc()({ type: 'minor' });
  };
}

function exposedGc(): Gc {
  if (gc) return gc;
  // Node started with --expose-gc: its gc(), and its flags as they are.
  const own = (globalThis as { gc?: unknown }).gc;
  if (typeof own === 'function') return (gc = own as Gc);
  setFlagsFromString('--expose-gc');
  try {
    gc = runInNewContext('gc') as Gc;
  } finally {
    setFlagsFromString('--no-expose-gc');
  }
  return gc;
}
