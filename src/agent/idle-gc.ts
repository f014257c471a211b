// A collection of V8's young generation when the agent goes idle (the
// Agent's onIdle): a new state version allocates about as much as the young
// generation holds at 5000 instances, so the scavenge that empties it used to
// fall in the middle of a sync, adding 2-35 ms to it (more on a loaded
// machine). Run right after each sync instead, the next sync starts with an
// empty young generation. `eucanet agent` uses it; a program that embeds the
// Agent decides for its own process.
//
// V8's gc() is not exposed by default: the flag is set at run time and the
// function taken from a new context (where V8 installs it), once.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

type Gc = (opts: { type: 'minor' | 'major'; execution?: 'sync' | 'async' }) => void;

let gc: Gc | undefined;

/** A function that runs a minor (young generation) collection now. */
export function minorGc(): () => void {
  if (!gc) {
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as Gc;
  }
  const run = gc;
  return () => run({ type: 'minor' });
}
