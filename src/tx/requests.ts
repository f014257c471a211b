// The request that carries out an op of the phases sent as plain pipelined
// requests (sets, address and route changes, neighbours, deletes).
import type { Request } from '../netlink/socket.js';
import { AddressAddRequest, AddressDeleteRequest } from '../rtnl/address.js';
import { LinkDeleteGroupRequest, LinkDeleteRequest, LinkSetRequest } from '../rtnl/link.js';
import { RouteAddRequest, RouteDeleteRequest } from '../rtnl/route.js';
import type { CommitContext } from './context.js';
import { isNeighOp, neighRequest } from './neigh-ops.js';
import type { Op } from './ops.js';

export function requestFor(op: Op, r: CommitContext['resolver']): Request {
  if (isNeighOp(op)) return neighRequest(op, r);
  switch (op.op) {
    case 'link.set':
      return new LinkSetRequest(op.ref, op.changes, r);
    case 'link.delete':
      return new LinkDeleteRequest(op.ref);
    case 'link.deleteGroup':
      return new LinkDeleteGroupRequest(op.group);
    case 'address.add':
      return new AddressAddRequest(op.spec, r);
    case 'address.delete':
      return new AddressDeleteRequest(op.spec, r);
    case 'route.add':
      return new RouteAddRequest(op.spec, r);
    case 'route.delete':
      return new RouteDeleteRequest(op.spec, r);
    default:
      throw new Error(`no request for ${op.op}`);
  }
}
