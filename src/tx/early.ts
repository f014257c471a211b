// The exchanges that follow a commit's taps, built and encoded while the
// addon is still making the taps (on the JavaScript thread, which would
// otherwise wait), instead of after them: the link adds, when the taps are
// followed by new links (a node's bridges and VXLAN segments), and the
// joined exchange (the new taps' lookups, link sets, address and route
// changes). Nothing is sent earlier than before; only the work of building
// the requests moves. A request that names a link not known yet (one that
// would need a lookup, or a new tap's ifindex) leaves the exchange to be
// built at its turn, as before, which then reports what failed.
import type { EncodedRun, EncodedSteps, Request } from '../netlink/socket.js';
import { LinkAddRequest, LinkGetRequest, type LinkSpec } from '../rtnl/link.js';
import type { Session } from '../session.js';
import type { Item, OpOf } from './commit.js';
import type { CommitContext } from './context.js';
import type { LinkRef } from '../rtnl/kinds/index.js';
import { everyRef, opRefs } from './ops.js';
import { orderLinkAdds } from './order.js';
import { requestFor } from './requests.js';

type LinkItem = Item<OpOf<'link.add'>>;
type TapItem = Item<OpOf<'tap.add'>>;
/** Puts the test hook's fault in a request (CommitRun.wrap). */
type Wrap = (req: Request, index: number) => Request;

/** The link adds after the taps, built ahead. */
export interface EarlyLinks {
  items: LinkItem[];
  ordered: Array<LinkItem & { spec: LinkSpec }>;
  specs: LinkSpec[];
  reqs: Request[];
  encoded: EncodedRun;
}

/** The joined exchange after the taps (and the link adds), built ahead. */
export interface EarlyJoined {
  phases: Item[][];
  /** How many of its first step are the new taps' lookups (0: none). */
  lookups: number;
  all: Request[][];
  encoded: EncodedSteps;
}

/** What comes after the taps, as execute() planned it. */
export interface AfterTaps {
  links?: LinkItem[];
  joined?: Item[][];
}

/**
 * Builds what `plan` names, in order, once the links are read: the link
 * adds (their ifindexes assigned, as links() would), then the joined
 * exchange. Each is undefined where it could not be built ahead.
 */
export function buildEarly(s: Session, ctx: CommitContext, plan: AfterTaps, taps: TapItem[], wrap: Wrap): { links?: EarlyLinks; joined?: EarlyJoined } {
  const made = new Set(taps.map((it) => it.op.name));
  const ok = (ref: LinkRef) => ctx.knows(ref) || made.has(ref as string);
  const known = (items: Item[]) => items.every((it) => everyRef(it.op, ok));
  let links: EarlyLinks | undefined;
  try {
    if (plan.links) {
      const ordered = orderLinkAdds(plan.links.map((it) => ({ ...it, spec: it.op.spec })));
      const specs = ordered.map((it) => ({ ...it.spec, index: ctx.assign(it.spec.name, it.spec.index) }));
      if (!ordered.every((it) => opRefs(it.op).every((ref) => ctx.knows(ref)))) return {};
      const reqs = specs.map((spec, i) => wrap(new LinkAddRequest(spec, ctx.resolver), ordered[i].index));
      links = { items: plan.links, ordered, specs, reqs, encoded: s.rtnl.encodeRun(reqs) };
    }
  } catch {
    // Built again by links(), which reports what failed.
    return {};
  }
  if (!plan.joined || !plan.joined.every(known)) return { links };
  try {
    const steps = plan.joined.map((items) => items.map((it) => wrap(requestFor(it.op, ctx.resolver), it.index)));
    // By name: the taps' ifindexes are not back yet.
    const lookups = taps.filter((it) => it.op.spec.master !== undefined).map((it): Request => new LinkGetRequest(it.op.name));
    const all = lookups.length ? [lookups, ...steps] : steps;
    const encoded = s.rtnl.encodeSteps(all);
    return { links, joined: encoded && { phases: plan.joined, lookups: lookups.length, all, encoded } };
  } catch {
    // A link named by ifindex that is not there yet, say: joined() builds it again.
    return { links };
  }
}

/** Whether `a` holds the same phase arrays as `b`, in order. */
export const samePhases = (a: readonly Item[][], b: readonly Item[][]) => a.length === b.length && a.every((p, k) => p === b[k]);
