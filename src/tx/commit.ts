// One commit in progress: the phases of a transaction sent to the kernel,
// each applied op journaled with its inverse (see transaction.ts for the order
// and for what is and is not atomic).
import type { Handle } from '../handle.js';
import { addon, nativeError } from '../native.js';
import { atOp, NetlinkError } from '../netlink/errors.js';
import { netnsTarget, type Request } from '../netlink/socket.js';
import type { Batch } from '../nft/batch.js';
import { AddressAddRequest, AddressDeleteRequest } from '../rtnl/address.js';
import { LinkAddRequest, LinkDeleteGroupRequest, LinkDeleteRequest, LinkSetRequest, settleLinks, type LinkSpec } from '../rtnl/link.js';
import { RouteAddRequest, RouteDeleteRequest } from '../rtnl/route.js';
import { readSysctl, writeSysctl } from '../sys/sysctl.js';
import { CommitContext } from './context.js';
import { FaultRequest, InjectedFault } from './fault.js';
import { inverseChanges } from './inverse.js';
import { Journal, type UndoStep } from './journal.js';
import { opNetns, opRefs, phaseOf, type Op, type Phase } from './ops.js';
import { orderLinkAdds } from './order.js';
import type { CommitOptions } from './transaction.js';

export interface Item<O extends Op = Op> {
  op: O;
  index: number;
}

export type OpOf<N extends Op['op']> = Extract<Op, { op: N }>;

/** The state of one commit in progress. */
export class CommitRun {
  readonly ctx: CommitContext;
  readonly journal = new Journal();
  readonly stats = { ops: 0, rtnlRequests: 0, nftMessages: 0 };
  nftCommitted = false;

  constructor(
    private readonly handle: Handle,
    private readonly opts: CommitOptions,
  ) {
    this.ctx = new CommitContext(handle.rtnl);
  }

  async prepare(items: Item[]): Promise<void> {
    this.stats.ops = items.length;
    if (items.some((it) => it.op.op !== 'sysctl' && it.op.op !== 'link.deleteGroup')) {
      await this.ctx.snapshot();
      this.stats.rtnlRequests++;
    }
    this.ctx.openNetns(items.flatMap((it) => opNetns(it.op)));
  }

  private wrap(req: Request, index: number): Request {
    return index === this.opts.failOp ? new FaultRequest(req) : req;
  }

  /** Sends requests pipelined; journals the inverse of each one applied; throws the first failure. */
  private async send(reqs: Request[], items: Item[], inverse: (it: Item, i: number) => Request | null | undefined): Promise<void> {
    const replies = await this.handle.rtnl.run(reqs);
    this.stats.rtnlRequests += reqs.length;
    let first: NetlinkError | undefined;
    replies.forEach((rep, i) => {
      const it = items[i]!;
      if (rep.error) {
        first ??= atOp(rep.error, it.index);
        return;
      }
      const inv = inverse(it, i);
      const undoes = reqs[i]!.describe();
      if (inv) this.journal.push({ kind: 'request', req: inv, undoes, opIndex: it.index });
      else if (inv === null) this.journal.push({ kind: 'irreversible', undoes, opIndex: it.index });
    });
    if (first) throw first;
  }

  private async learn(items: Item[]): Promise<void> {
    const before = this.ctx;
    const refs = items.flatMap((it) => opRefs(it.op)).filter((r) => !before.knows(r));
    if (refs.length) {
      await this.ctx.learn(refs, `${items[0]!.op.op} (looking up links)`);
      this.stats.rtnlRequests += new Set(refs).size;
    }
  }

  async phase(phase: Phase, items: Item[]): Promise<void> {
    switch (phase) {
      case 'taps':
        return this.taps(items as Item<OpOf<'tap.add'>>[]);
      case 'links':
        return this.links(items as Item<OpOf<'link.add'>>[]);
      case 'sysctls':
        return this.sysctls(items as Item<OpOf<'sysctl'>>[]);
      default:
        return this.simple(items);
    }
  }

  private async taps(items: Item<OpOf<'tap.add'>>[]): Promise<void> {
    const names = items.map((it) => it.op.name);
    const { tun, vnetHdr, multiQueue, owner, ownerGroup } = items[0]!.op.spec;
    const site = new Error();
    let indexes: Int32Array;
    try {
      indexes = await addon.tapCreate(netnsTarget(this.handle.netns), names, { tun, vnetHdr, multiQueue, owner, ownerGroup }, false);
    } catch (err) {
      const e = nativeError(err, 'tap create', site) as Error & { index?: number; opIndex?: number };
      if (typeof e.index === 'number') e.opIndex = items[e.index]!.index;
      throw e;
    }
    this.stats.rtnlRequests += names.length;
    // The addon read each new tap's ifindex; asking the kernel for the links
    // anyway is what makes putting them in a bridge cheap (see settleLinks),
    // so only the taps that go into one are asked for.
    names.forEach((n, i) => this.ctx.record(n, indexes[i]!));
    const enslaved = items.flatMap((it, i) => (it.op.spec.master !== undefined ? [indexes[i]!] : []));
    await settleLinks(this.handle.rtnl, enslaved);
    this.stats.rtnlRequests += enslaved.length;
    for (const it of items) {
      this.journal.push({ kind: 'request', req: new LinkDeleteRequest(it.op.name), undoes: `tap add ${it.op.name}`, opIndex: it.index });
    }
    const injected = items.find((it) => it.index === this.opts.failOp);
    if (injected) throw Object.assign(new InjectedFault(`tap add ${injected.op.name}`), { opIndex: injected.index });
  }

  private async links(items: Item<OpOf<'link.add'>>[]): Promise<void> {
    const ordered = orderLinkAdds(items.map((it) => ({ ...it, spec: it.op.spec })));
    const specs = ordered.map((it) => ({ ...it.spec, index: this.ctx.assign(it.spec.name, it.spec.index) }) as LinkSpec);
    await this.learn(ordered);
    const reqs = specs.map((spec, i) => this.wrap(new LinkAddRequest(spec, this.ctx.resolver), ordered[i]!.index));
    await this.send(reqs, ordered, (_it, i) => new LinkDeleteRequest(specs[i]!.index!));
  }

  private async sysctls(items: Item<OpOf<'sysctl'>>[]): Promise<void> {
    const ns = this.handle.netns;
    for (const it of items) {
      const { key, value } = it.op;
      if (it.index === this.opts.failOp) throw Object.assign(new InjectedFault(`sysctl ${key}`), { opIndex: it.index });
      let old: string;
      try {
        old = readSysctl(ns, key);
        writeSysctl(ns, key, value);
      } catch (err) {
        throw Object.assign(err as Error, { opIndex: it.index });
      }
      const step: UndoStep = { kind: 'sysctl', netns: ns, key, value: old, undoes: `sysctl ${key}=${value}`, opIndex: it.index };
      this.journal.push(step);
    }
  }

  /** The nftables batch: the kernel applies it whole or not at all, so it journals nothing. */
  async nft(batch: Batch): Promise<void> {
    await batch.commit(this.opts.genid !== undefined ? { genid: this.opts.genid } : {});
    this.stats.nftMessages += batch.length;
    this.nftCommitted = true;
  }

  /** Sets, address and route changes, and deletes: one pipelined send per phase. */
  private async simple(items: Item[]): Promise<void> {
    await this.learn(items);
    const r = this.ctx.resolver;
    const reqs = items.map((it) => this.wrap(requestFor(it.op, r), it.index));
    const irreversible = phaseOf(items[0]!.op) === 'deletes';
    await this.send(reqs, items, (it) => (irreversible ? null : inverseOf(it.op, this.ctx)));
  }
}

function requestFor(op: Op, r: CommitContext['resolver']): Request {
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

/** The request that undoes `op`, or undefined when nothing needs undoing. */
function inverseOf(op: Op, ctx: CommitContext): Request | undefined {
  const r = ctx.resolver;
  switch (op.op) {
    case 'link.set': {
      const changes = inverseChanges(op.ref, op.changes, ctx);
      return changes ? new LinkSetRequest(ctx.lookup(op.ref) ?? op.ref, changes, r) : undefined;
    }
    case 'address.add':
      return new AddressDeleteRequest(op.spec, r);
    case 'address.delete':
      return new AddressAddRequest(op.spec, r);
    case 'route.add':
      return new RouteDeleteRequest(op.spec, r);
    case 'route.delete':
      return new RouteAddRequest(op.spec, r);
    default:
      return undefined;
  }
}
