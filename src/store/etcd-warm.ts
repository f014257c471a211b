// The etcd store's warm-up versions (EtcdStore.warmUp): made-up next versions
// of the last state read, each with the kind of change an operation writes:
// its last instance taken away (a terminate; back again, a run-instance) and
// one more rule in its first group (an authorize). They are checked in memory
// only (the incremental check), never written, so that the first real version
// of each kind does not pay for V8 optimising that path: at 5000 instances
// it walks the list, and V8 optimised it during the first operations of a
// fleet, in every agent at once.
import type { IncrementalCheck } from '../managed/check-incremental.js';
import type { State } from '../managed/types.js';

/** The rule the made-up authorize adds: one no state is likely to hold (TEST-NET-1, the highest port). */
const RULE = { protocol: 'tcp' as const, from: 65535, to: 65535, cidr: '192.0.2.0/24' };
/** How many times each version is checked (the small functions of a group's check need many calls before V8 optimises them). */
const TURNS = 12;

/** The made-up versions of `doc` that could be made (none without instances or groups). */
export function warmUpVariants(doc: State): State[] {
  const out: State[] = [];
  const list = doc.instances;
  if (list?.length) out.push({ ...doc, instances: list.slice(0, -1) });
  const [first, ...rest] = doc.groups ?? [];
  if (first) out.push({ ...doc, groups: [{ ...first, rules: [...(first.rules ?? []), RULE] }, ...rest] });
  return out;
}

/** Each made-up version of `doc` checked, then `doc` again (the check is left holding it), TURNS times. */
export function warmUpCheck(check: IncrementalCheck, doc: State): void {
  const variants = warmUpVariants(doc);
  for (let i = 0; i < TURNS; i++) for (const v of variants) for (const d of [v, doc]) check.check(d);
}
