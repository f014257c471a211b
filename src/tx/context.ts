// What requests need to know before they are encoded: link names as
// ifindexes (one dump for a commit's snapshot, or pipelined lookups), an
// ifindex for every link a transaction creates, and open fds for the
// namespaces they name. Commits and the handle's one-op calls both use it.
import { closeSync, openSync } from 'node:fs';
import { NetlinkError, ValidationError } from '../errors.js';
import { ERRNO } from '../native.js';
import type { NetlinkConnection } from '../netlink/socket.js';
import { netnsTarget, type Netns } from '../sys/netns-path.js';
import type { LinkRef, Resolver } from '../rtnl/kinds/index.js';
import { decodeLink, LinkDumpRequest, LinkGetRequest, type Link } from '../rtnl/link.js';
import { everyRef, type Op } from './ops.js';

/** Where eucanet's chosen ifindexes start (see assign()). */
export const ASSIGNED_BASE = 1 << 20;

export class CommitContext {
  /** Links as they were before the commit, by name. */
  readonly before = new Map<string, Link>();
  private readonly index = new Map<string, number>();
  /** Names looked up and not found: the errno and the op that asked. */
  private readonly missing = new Map<string, { errno: number; op: string }>();
  private readonly fds = new Map<Netns, number>();
  private nextIndex = 1;

  constructor(private readonly rtnl: NetlinkConnection) {}

  /** Dumps the links once. */
  async snapshot(): Promise<void> {
    for (const m of await this.rtnl.dump(new LinkDumpRequest())) {
      const l = decodeLink(m);
      this.before.set(l.name, l);
      this.index.set(l.name, l.index);
      if (l.index >= this.nextIndex) this.nextIndex = l.index + 1;
    }
  }

  /**
   * What a commit of `items` needs to know of the links before its requests
   * are encoded; returns the rtnetlink requests it took. A commit that adds
   * links dumps them all (a new link's ifindex is picked above the highest
   * one there, see assign()). Any other asks the kernel only for the links it
   * changes (link sets), each with its pre-image for the undo; the links it
   * only names (a tap's master, an address's link) are resolved to ifindexes
   * on the spot (resolve()), and the taps it makes itself not at all. A
   * bring-up of 100 taps into 4 bridges with 100 addresses on eth0 sends no
   * lookup.
   */
  async read(items: readonly { readonly op: Op }[]): Promise<number> {
    if (items.some((it) => it.op.op === 'link.add')) {
      await this.snapshot();
      return 1;
    }
    // Indexed loops and everyRef(): a bring-up runs this over thousands of
    // ops, and their ref lists and iterators were most of what it allocated.
    const made = new Set<LinkRef>();
    for (let i = 0; i < items.length; i++) {
      const op = items[i].op;
      if (op.op === 'tap.add') made.add(op.name);
    }
    const changed = new Set<LinkRef>();
    const named = new Set<string>();
    const name = (ref: LinkRef) => {
      if (typeof ref === 'string' && !made.has(ref)) named.add(ref);
      return true;
    };
    for (let i = 0; i < items.length; i++) {
      const op = items[i].op;
      if (op.op === 'link.set' && !made.has(op.ref)) changed.add(op.ref);
      everyRef(op, name);
    }
    for (const ref of changed) if (typeof ref === 'string') named.delete(ref);
    this.resolve([...named], 'lookup');
    return changed.size ? this.learn([...changed], 'lookup', true) : 0;
  }

  /**
   * Picks the ifindex a new link will get, so that later requests in the same
   * pipelined send can name it (a VLAN's parent, a port's master) before the
   * kernel has answered. The kernel hands out its own indices cyclically from
   * the last one it allocated, so ours come from a range far above that
   * (ASSIGNED_BASE), where a veth peer or tap created meanwhile will not land.
   * If another process takes one anyway, the add fails and the commit rolls back.
   */
  assign(name: string, wanted?: number): number {
    if (this.nextIndex < ASSIGNED_BASE) this.nextIndex = ASSIGNED_BASE;
    const i = wanted ?? this.nextIndex++;
    this.index.set(name, i);
    return i;
  }

  /**
   * Looks up, with pipelined RTM_GETLINK requests (answered by the kernel, no
   * dump), any of `refs` not yet known. A name that does not exist is
   * remembered, and fails only when an encoder asks for it: as a NetlinkError
   * (ENODEV) naming the op and the field, before that request is sent. Each
   * link found is also kept as it was (its pre-image); with `images`, links
   * named by ifindex are asked for too, so that changes to them can be undone
   * without a snapshot.
   */
  async learn(refs: LinkRef[], op: string, images = false): Promise<number> {
    const asked = [...new Set(refs.filter((r) => (images ? !this.hasImage(r) : typeof r === 'string' && !this.knows(r))))];
    if (!asked.length) return 0;
    const replies = await this.rtnl.run(asked.map((n) => new LinkGetRequest(n)));
    replies.forEach((rep, i) => {
      const ref = asked[i];
      if (rep.error || !rep.messages[0]) {
        if (typeof ref === 'string') this.missing.set(ref, { errno: rep.error?.errno ?? ERRNO.ENODEV, op });
        return;
      }
      const l = decodeLink(rep.messages[0]);
      this.index.set(l.name, l.index);
      this.before.set(l.name, l);
    });
    return asked.length;
  }

  /**
   * Learns the ifindexes of the links named `names` without asking for the
   * links themselves (NetlinkConnection.ifindexes()): for links a commit only
   * names, such as a tap's master or an address's link, whose pre-image no
   * undo reads. A name that does not exist is remembered as learn() does.
   */
  resolve(names: readonly string[], op: string): void {
    const asked = names.filter((n) => !this.knows(n));
    if (!asked.length) return;
    const found = this.rtnl.ifindexes(asked);
    for (let i = 0; i < asked.length; i++) {
      if (found[i] > 0) this.index.set(asked[i], found[i]);
      else this.missing.set(asked[i], { errno: ERRNO.ENODEV, op });
    }
  }

  private hasImage(ref: LinkRef): boolean {
    if (typeof ref === 'string') return this.before.has(ref) || this.missing.has(ref);
    for (const l of this.before.values()) if (l.index === ref) return true;
    return false;
  }

  /** Opens the namespace files the requests name (for IFLA_NET_NS_FD); all or none. */
  openNetns(list: Netns[]): void {
    try {
      for (const ns of list) {
        if (typeof ns === 'number' || this.fds.has(ns)) continue;
        this.fds.set(ns, openSync(netnsTarget(ns) as string, 'r'));
      }
    } catch (err) {
      this.release();
      throw err;
    }
  }

  release(): void {
    for (const fd of this.fds.values()) closeSync(fd);
    this.fds.clear();
  }

  /** Notes the ifindex of a link this commit made by other means (a tap). */
  record(name: string, index: number): void {
    this.index.set(name, index);
    this.missing.delete(name);
  }

  knows(ref: LinkRef): boolean {
    return typeof ref === 'number' || this.index.has(ref) || this.missing.has(ref);
  }

  lookup(ref: LinkRef): number | undefined {
    return typeof ref === 'number' ? ref : this.index.get(ref);
  }
  indexOf(ref: LinkRef, field: string): number {
    const i = this.lookup(ref);
    if (i !== undefined) return i;
    const m = this.missing.get(ref as string);
    if (m) throw new NetlinkError(m.errno, { op: m.op, extack: `no link named "${ref}"`, attribute: field });
    throw new ValidationError(field, ref, 'unknown link');
  }
  netnsFd(ns: Netns, field: string): number {
    if (typeof ns === 'number') return ns;
    const fd = this.fds.get(ns);
    if (fd === undefined) throw new ValidationError(field, ns, 'namespace was not opened');
    return fd;
  }
  private resolverOf?: Resolver;
  /** This context as the encoders' Resolver: one object, not one per request (a bring-up asks for it thousands of times). */
  get resolver(): Resolver {
    return (this.resolverOf ??= { index: (ref, field) => this.indexOf(ref, field), netnsFd: (ns, field) => this.netnsFd(ns, field) });
  }
}
