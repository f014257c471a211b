// The garbage collector's gc() for tests that check what a collection frees
// (finalizers of sockets, reply buffers), reached through
// v8.setFlagsFromString('--expose-gc'), so no vitest flags are needed.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

export function gcFunction(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}
