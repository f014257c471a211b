// Requests whose outcome is unknown: the kernel was given them but its answer
// was lost (ENOBUFS, a timeout). Before rolling back, each is settled from
// what the kernel has now, compared with what the commit knew before it:
// an undo step where it may have been applied and can be undone exactly, a
// line saying "unknown" where eucanet cannot tell, never a silent guess.
import type { Session } from '../session.js';
import { LinkDeleteRequest, LinkGetRequest, decodeLink } from '../rtnl/link.js';
import { bytesToIp, networkOf, parseCidr } from '../util/ip.js';
import type { Item } from './commit.js';
import type { CommitContext } from './context.js';
import type { UndoStep } from './journal.js';
import type { Op } from './ops.js';
import { listAddresses, listRoutes } from './read.js';
import type { Request } from '../netlink/socket.js';

export interface Unsettled {
  it: Item;
  req: Request;
  /** The ifindex a link add asked for. */
  index?: number;
}

/** The undo steps for `list`: exact undos where the kernel's state tells, "unknown" lines where it does not. */
export async function settleUnknown(
  h: Session,
  ctx: CommitContext,
  list: Unsettled[],
  cause: string,
  inverse: (op: Op) => Request | undefined,
): Promise<UndoStep[]> {
  const kinds = new Set(list.map((u) => u.it.op.op));
  const addrs = kinds.has('address.add') || kinds.has('address.delete') ? await listAddresses(h) : [];
  const routes = kinds.has('route.add') ? await listRoutes(h, { table: 'all' }) : [];
  const steps: UndoStep[] = [];
  for (const { it, req, index } of list) {
    const undoes = req.describe();
    const opIndex = it.index;
    const unknown = (state: string) => steps.push({ kind: 'unknown', what: `${undoes}: outcome unknown (its answer was lost: ${cause}); ${state}`, opIndex });
    const op = it.op;
    switch (op.op) {
      case 'link.set': {
        if (op.changes.netns !== undefined) {
          unknown('it may have moved the link to another namespace');
          break;
        }
        // Putting back the pre-image is right whether or not it was applied; a
        // link this commit made has no pre-image and goes with its own undo.
        const inv = inverse(op);
        if (inv) steps.push({ kind: 'request', req: inv, undoes, opIndex });
        break;
      }
      case 'link.add': {
        if (index === undefined) {
          unknown('the kernel chose its ifindex, so eucanet cannot tell a link of that name made by it from one made meanwhile');
          break;
        }
        // The name was free before the commit: a link of that name at the index we chose is ours.
        const [rep] = await h.rtnl.run([new LinkGetRequest(op.spec.name)]);
        if (!rep.error && rep.messages[0] && decodeLink(rep.messages[0]).index === index) {
          steps.push({ kind: 'request', req: new LinkDeleteRequest(index), undoes, opIndex });
        }
        break;
      }
      case 'address.add':
      case 'address.delete': {
        const dev = ctx.lookup(op.spec.dev);
        const c = parseCidr('address', op.spec.address);
        const text = bytesToIp(c.bytes);
        const present = addrs.some((a) => a.index === dev && a.address === text && a.prefix === c.prefix);
        // Not applied if the kernel shows the state from before the request.
        if (present === (op.op === 'address.delete')) break;
        unknown(
          present
            ? 'it is present now, and eucanet cannot tell whether it was there before'
            : 'it is absent now, and eucanet cannot tell whether it was there before',
        );
        break;
      }
      case 'route.add': {
        const dst = normDst(op.spec.dst);
        const present = routes.some((r) => r.dst === dst && (op.spec.gateway === undefined || r.gateway === op.spec.gateway));
        if (present) unknown('a route to that destination is present now, and eucanet cannot tell whether it was there before');
        break;
      }
      default:
        unknown('eucanet cannot tell what it did');
    }
  }
  return steps;
}

function normDst(dst: string): string {
  if (dst === 'default') return dst;
  const c = parseCidr('dst', dst);
  return `${bytesToIp(networkOf(c))}/${c.prefix}`;
}
