// Neighbour and FDB ops in a commit: their requests, and their undos. An add
// or append is undone by a delete of the same entry; a replace or delete by
// putting back the entry as it was, read from the kernel just before the
// phase is sent (or, where there was none, by a delete); a delete whose entry
// is `known` (ops.ts) by appending it back, with nothing read.
import type { Request } from '../netlink/socket.js';
import { FdbAddRequest, FdbAppendRequest, FdbDeleteRequest, FdbReplaceRequest, type FdbSpec, type FdbState } from '../rtnl/fdb.js';
import type { Resolver } from '../rtnl/kinds/index.js';
import {
  decodeNeighbor,
  NeighborAddRequest,
  NeighborDeleteRequest,
  NeighborDumpRequest,
  NeighborReplaceRequest,
  NEIGH_SET_STATES,
  type Neighbor,
  type NeighborSpec,
  type NeighSetState,
} from '../rtnl/neigh.js';
import type { Session } from '../session.js';
import { bytesToIp, parseIp, parseMac, formatMac } from '../util/ip.js';
import { must } from '../util/must.js';
import type { Op } from './ops.js';

export type NeighOp = Extract<Op, { op: `neigh.${string}` | `fdb.${string}` }>;

export function isNeighOp(op: Op): op is NeighOp {
  return op.op.startsWith('neigh.') || op.op.startsWith('fdb.');
}

export function neighRequest(op: NeighOp, r: Resolver): Request {
  switch (op.op) {
    case 'neigh.add':
      return new NeighborAddRequest(op.spec, r);
    case 'neigh.replace':
      return new NeighborReplaceRequest(op.spec, r);
    case 'neigh.delete':
      return new NeighborDeleteRequest(op.spec, r);
    case 'fdb.add':
      return new FdbAddRequest(op.spec, r);
    case 'fdb.append':
      return new FdbAppendRequest(op.spec, r);
    case 'fdb.replace':
      return new FdbReplaceRequest(op.spec, r);
    case 'fdb.delete':
      return new FdbDeleteRequest(op.spec, r);
  }
}

/** The neighbour and FDB entries a phase's replaces and deletes touch, as they were before it. */
export class NeighBefore {
  private constructor(private readonly entries: Neighbor[]) {}

  /** Reads the tables those ops need (one dump per family), or nothing if no op needs a pre-image. */
  static async read(s: Session, ops: readonly Op[]): Promise<NeighBefore> {
    const fams = new Set<4 | 6 | 'bridge'>();
    for (const op of ops) {
      if (op.op === 'neigh.replace' || op.op === 'neigh.delete') fams.add(parseIp('address', op.spec.address).family);
      if (op.op === 'fdb.replace' || (op.op === 'fdb.delete' && !op.known)) fams.add('bridge');
    }
    const entries: Neighbor[] = [];
    for (const f of fams) entries.push(...(await s.rtnl.dump(new NeighborDumpRequest(f))).map(decodeNeighbor));
    return new NeighBefore(entries);
  }

  neighbor(index: number, address: string): Neighbor | undefined {
    const want = bytesToIp(parseIp('address', address).bytes);
    return this.entries.find((e) => e.family !== 'bridge' && e.index === index && e.dst === want);
  }

  /** The FDB entry of that MAC on that device (with that dst, when given: a vxlan MAC may have several). */
  fdb(index: number, lladdr: string, dst?: string): Neighbor | undefined {
    const mac = formatMac(parseMac('lladdr', lladdr));
    const d = dst !== undefined ? bytesToIp(parseIp('dst', dst).bytes) : undefined;
    return this.entries.find((e) => e.family === 'bridge' && e.index === index && e.lladdr === mac && (d === undefined || e.dst === d));
  }
}

/** The spec that recreates a neighbour as the kernel reported it. */
export function neighborSpecOf(n: Neighbor): NeighborSpec {
  const state = (NEIGH_SET_STATES as readonly string[]).find((s) => (n.state as string[]).includes(s)) as NeighSetState | undefined;
  const spec: NeighborSpec = { dev: n.index, address: must(n.dst, 'the address of a neighbour read back'), state: state ?? 'none' };
  if (n.lladdr !== undefined) spec.lladdr = n.lladdr;
  if (n.flags.includes('router')) spec.router = true;
  return spec;
}

/** `bridge fdb`'s state of an entry: permanent (NUD_PERMANENT), static (NUD_NOARP), else dynamic. */
export function fdbStateOf(n: Neighbor): FdbState {
  return n.state.includes('permanent') ? 'permanent' : n.state.includes('noarp') ? 'static' : 'dynamic';
}

/** The spec that recreates an FDB entry as the kernel reported it. */
export function fdbSpecOf(n: Neighbor): FdbSpec {
  const spec: FdbSpec = { dev: n.index, lladdr: must(n.lladdr, 'the MAC of an FDB entry read back'), state: fdbStateOf(n) };
  if (n.dst !== undefined) spec.dst = n.dst;
  if (n.port !== undefined) spec.port = n.port;
  if (n.vni !== undefined) spec.vni = n.vni;
  if (n.ifindex !== undefined) spec.via = n.ifindex;
  if (n.flags.includes('self')) spec.self = true;
  if (n.flags.includes('master')) spec.master = true;
  return spec;
}

/**
 * What undoes an applied neighbour or FDB op: a request; or, when it is the
 * delete of the op's own entry (its spec validated by the op's request), a
 * function that makes it when a rollback needs it (journal.ts deferredStep);
 * undefined when nothing needs undoing. What the entry was is looked up now.
 */
export function neighInverse(op: NeighOp, r: Resolver, before: NeighBefore | undefined): Request | (() => Request) | undefined {
  const dev = r.index(op.spec.dev, 'dev');
  switch (op.op) {
    case 'neigh.add':
      return () => new NeighborDeleteRequest(op.spec, r);
    case 'neigh.replace':
    case 'neigh.delete': {
      const was = before?.neighbor(dev, op.spec.address);
      if (was) return new NeighborReplaceRequest(neighborSpecOf(was), r);
      return op.op === 'neigh.replace' ? () => new NeighborDeleteRequest(op.spec, r) : undefined;
    }
    case 'fdb.add':
    case 'fdb.append':
      return () => new FdbDeleteRequest(op.spec, r);
    case 'fdb.replace': {
      // A replace changes the MAC's (first) destination: what it was is the entry of that MAC.
      const was = before?.fdb(dev, op.spec.lladdr);
      return was ? new FdbReplaceRequest(fdbSpecOf(was), r) : () => new FdbDeleteRequest(op.spec, r);
    }
    case 'fdb.delete': {
      if (op.known) return new FdbAppendRequest(op.spec, r);
      const was = before?.fdb(dev, op.spec.lladdr, op.spec.dst);
      // Append puts back one destination of a vxlan MAC without touching its others.
      return was ? new FdbAppendRequest(fdbSpecOf(was), r) : undefined;
    }
  }
}
