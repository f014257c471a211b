// An invariant, not input: a value the code knows is there (an entry it put
// in a map, a lookup that a check before it proved). Where it is not, that is
// a bug in eucanet, and it says so by name rather than as a TypeError further on.

/** `v`, which must be there; throws naming `what` if it is not. */
export function must<T>(v: T | null | undefined, what: string): T {
  if (v === undefined || v === null) throw new Error(`eucanet: internal error: ${what} is missing`);
  return v;
}
