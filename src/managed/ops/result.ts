// The shape every operation returns, and the helpers they share. Pure.
import { ValidationError } from '../../errors.js';
import { allocate, fullyAllocated } from '../allocate.js';
import { withAllocations } from '../document.js';
import { groupKey, type AllocatedState, type Group, type Instance, type State } from '../types.js';
import type { Change } from './changes.js';

export interface OpResult {
  /** The new state document: the input with the change made and every allocation filled in. */
  state: State;
  /** The same state, fully allocated (every default resolved). */
  allocated: AllocatedState;
  changes: Change[];
}

/** An operation, ready to run on a state (what `update` and ManagedCloud take). */
export type Op = (state: State) => OpResult;

/** Validates and allocates the edited document; the result of an operation. */
export function finish(next: State, changes: (a: AllocatedState) => Change[]): OpResult {
  const allocated = allocate(next);
  return { state: withAllocations(next, allocated), allocated, changes: changes(allocated) };
}

/** Every allocation explicit (publicIp true resolved to its address)? */
/**
 * A copy of the document with every existing allocation made explicit, so
 * that what an operation adds or frees never moves what others hold (an
 * instance's `publicIp: true` is its address before allocate-address picks one).
 */
export function base(state: State): State {
  const s = structuredClone(state);
  return fullyAllocated(s) ? s : withAllocations(s, allocate(s));
}

export function findGroup(s: State, key: string, field = 'group'): Group {
  if (typeof key !== 'string' || !/^[^/]+\/[^/]+$/.test(key)) throw new ValidationError(field, key, 'expected "owner/name"');
  const g = (s.groups ?? []).find((x) => groupKey(x) === key);
  if (!g) throw new ValidationError(field, key, `no such group${hint((s.groups ?? []).map(groupKey))}`);
  return g;
}

export function findInstance(s: State, id: string, field = 'instance'): Instance {
  const inst = (s.instances ?? []).find((x) => x.id === id);
  if (!inst) throw new ValidationError(field, id, 'no such instance');
  return inst;
}

/** " (known: a, b, c)" for a short list; nothing for a long or empty one. */
export function hint(names: string[]): string {
  return names.length && names.length <= 10 ? ` (known: ${names.join(', ')})` : '';
}
