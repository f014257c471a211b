// Allocation at the cost of what changed (the agent's store source): each
// new version of a state allocated from the last call's result, handing over
// the previous output's objects where the input's are the same (a store's
// cache hands unchanged ones over), so that a version that changes one
// instance does not allocate the other 5000. The output equals allocate()'s
// (test/unit/allocate-next.test.ts).
import { allocate, canonicalOf, fullyAllocated, memo } from './allocate.js';
import type { AllocatedState, State } from './types.js';

/** One call of allocateNext: its input and output, and whether the input had nothing left to allocate. */
export interface AllocatedPair {
  input: State;
  output: AllocatedState;
  full: boolean;
}

/** Every top-level value but the two lists is the same (===) in both, with the same keys. */
function sameContext(a: State, b: State): boolean {
  const ka = Object.keys(a).filter((k) => k !== 'groups' && k !== 'instances');
  const kb = Object.keys(b).filter((k) => k !== 'groups' && k !== 'instances');
  const va = a as unknown as Record<string, unknown>;
  const vb = b as unknown as Record<string, unknown>;
  return ka.length === kb.length && ka.every((k, i) => k === kb[i] && va[k] === vb[k]);
}

/**
 * `list`'s canonical items, undefined when one is not fully allocated. The
 * items the input shares with the previous one at its two ends (the same
 * objects: a store's cache hands unchanged ones over) are the previous
 * output's, copied as two slices; only the run between them, where a version
 * inserted, removed or changed items, is looked at one by one (the previous
 * output's item where the input's is the same object at the same place, else
 * the memo). A run-instance at 5000 instances used to push 5000 items into a
 * growing array, in every agent for every such version.
 */
function nextList<T extends object, C>(list: T[], prevIn: T[], prevOut: C[], done: (x: T) => boolean, make: (x: T) => C): C[] | undefined {
  if (list === prevIn) return prevOut;
  const n = list.length;
  const m = prevIn.length;
  const both = Math.min(n, m);
  let head = 0;
  while (head < both && list[head] === prevIn[head]) head++;
  let tail = 0;
  while (tail < both - head && list[n - 1 - tail] === prevIn[m - 1 - tail]) tail++;
  // Filled by push (and made by slice and concat), never at its length: an
  // array made at its length is holey to V8 for good, and code optimised on
  // the packed lists a store assembles and allocate() maps (the agent's
  // warm-up runs on those) was thrown away ("wrong map") by the first
  // version this made, in every agent at once.
  const middle: C[] = [];
  for (let i = head; i < n - tail; i++) {
    const x = list[i];
    if (i < m && x === prevIn[i]) middle.push(prevOut[i]);
    else if (!done(x)) return undefined;
    else middle.push(memo(x, make as (o: T) => C & object));
  }
  // One copy of the previous output where it can be: appended to as it is, or cut at one end.
  if (head === m) return middle.length ? prevOut.concat(middle) : prevOut;
  if (!head && !tail) return middle;
  if (!tail) return middle.length ? prevOut.slice(0, head).concat(middle) : prevOut.slice(0, head);
  if (!head && !middle.length) return prevOut.slice(m - tail);
  return prevOut.slice(0, head).concat(middle, prevOut.slice(m - tail));
}

/**
 * allocate(input, { validated: true }) at the cost of what changed since
 * `prev` (the last call's result): when the previous input had nothing left
 * to allocate, only groups and instances changed (every other top-level value
 * the same object, as a store's cache hands them over) and those that changed
 * have nothing left to allocate either, the previous output with its lists
 * updated (unchanged items by place, the rest canonical as allocate makes
 * them); otherwise allocate itself. The output equals allocate's
 * (test/unit/allocate-next.test.ts).
 */
export function allocateNext(prev: AllocatedPair | undefined, input: State): AllocatedPair {
  if (prev?.full && sameContext(prev.input, input)) {
    const groups = nextList(
      input.groups ?? [],
      prev.input.groups ?? [],
      prev.output.groups,
      (g) => g.vlan !== undefined && g.subnet !== undefined,
      canonicalOf.group,
    );
    const instances =
      groups &&
      nextList(
        input.instances ?? [],
        prev.input.instances ?? [],
        prev.output.instances,
        (i) => i.port !== undefined && i.privateIp !== undefined && i.mac !== undefined && i.publicIp !== true,
        canonicalOf.instance,
      );
    if (groups && instances) return { input, output: { ...prev.output, groups, instances }, full: true };
  }
  return { input, output: allocate(input, { validated: true }), full: fullyAllocated(input) };
}
