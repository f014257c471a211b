// The public entry point: open({ netns }) gives a Handle bound to one network
// namespace, with typed methods for links, addresses, routes, taps and sysctl.
import { addon, nativeError, type TapOptions } from './native.js';
import { NETLINK_ROUTE } from './netlink/constants.js';
import { ValidationError } from './errors.js';
import { NetlinkConnection, type Request } from './netlink/socket.js';
import { netnsTarget, type Netns } from './sys/netns-path.js';
import {
  AddressAddRequest,
  AddressDeleteRequest,
  AddressDumpRequest,
  decodeAddress,
  isInetAddress,
  validateAddress,
  type Address,
  type AddressSpec,
} from './rtnl/address.js';
import { validateLinkName, type LinkRef, type Resolver } from './rtnl/kinds/index.js';
import {
  checkRef,
  decodeLink,
  LinkAddRequest,
  LinkDeleteGroupRequest,
  LinkDeleteRequest,
  LinkDumpRequest,
  LinkGetRequest,
  LinkSetRequest,
  linkRefs,
  netnsRefs,
  settleLinks,
  validateLinkAttributes,
  validateLinkChanges,
  validateLinkSpec,
  type Link,
  type LinkAttributes,
  type LinkChanges,
  type LinkFilter,
  type LinkSpec,
} from './rtnl/link.js';
import { decodeRoute, RouteAddRequest, RouteDeleteRequest, RouteDumpRequest, validateRoute, type Route, type RouteSpec } from './rtnl/route.js';
import { readSysctl, writeSysctl } from './sys/sysctl.js';
import { validateTapOptions } from './sys/tap.js';
import { CommitContext } from './tx/context.js';
import { byteString } from './util/bytes.js';
import { ipv4ToBytes, ipv6ToBytes } from './util/ip.js';
import { Transaction } from './tx/transaction.js';
import { Nft } from './nft/nft.js';

export interface OpenOptions {
  /** A namespace name (/run/netns/NAME), a path to a namespace file, or an open fd. Default: the caller's. */
  netns?: Netns;
}

/** Options for persistent taps: the tun/tap flags, plus link attributes applied after creation. */
export interface TapSpec extends TapOptions, LinkAttributes {}

/** Looked-up names and opened namespace files for one set of requests. */
interface Resolved {
  r: Resolver;
  release(): void;
}

/** Code-point order: stable across locales, and far cheaper than localeCompare on big dumps. */
const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Runs the input checks of `op`: a ValidationError then names the op as well as the field. */
function checked(op: string, fn: () => void): void {
  try {
    fn();
  } catch (err) {
    if (err instanceof ValidationError) throw err.inOp(op);
    throw err;
  }
}

export class Handle {
  readonly rtnl: NetlinkConnection;

  constructor(readonly netns?: Netns) {
    this.rtnl = new NetlinkConnection(NETLINK_ROUTE, netns);
  }

  private nftHandle?: Nft;

  /** nftables in the same namespace (its socket is opened on first use). */
  get nft(): Nft {
    return (this.nftHandle ??= new Nft({ netns: this.netns }));
  }

  close(): void {
    this.rtnl.close();
    this.nftHandle?.close();
  }

  /**
   * A transaction of typed ops, committed together: pipelined rtnetlink
   * requests with an undo journal, and one atomic nftables batch.
   */
  transaction(): Transaction {
    return new Transaction(this);
  }

  /**
   * Looks up every link name the requests refer to (one pipelined RTM_GETLINK
   * each, answered by the kernel, no dump) and opens the namespace files they
   * name. An unknown name fails with ENODEV naming the op, the name and the
   * field when a request uses it, so before anything is sent.
   */
  async resolve(op: string, refs: LinkRef[], nsRefs: Netns[] = []): Promise<Resolved> {
    const ctx = new CommitContext(this.rtnl);
    await ctx.learn(refs, op);
    ctx.openNetns(nsRefs);
    return { r: ctx.resolver, release: () => ctx.release() };
  }

  private async one(req: Request): Promise<void> {
    const [rep] = await this.rtnl.run([req]);
    if (rep!.error) throw rep!.error;
  }

  private async withResolved<T>(op: string, refs: LinkRef[], ns: Netns[], fn: (r: Resolver) => Promise<T>): Promise<T> {
    const { r, release } = await this.resolve(op, refs, ns);
    try {
      return await fn(r);
    } finally {
      release();
    }
  }

  readonly links = {
    /** Creates a link. Names it refers to (parent, master, device) are looked up first. */
    add: async (spec: LinkSpec): Promise<void> => {
      const op = `link add ${spec?.name}`;
      checked(op, () => validateLinkSpec(spec));
      await this.withResolved(op, linkRefs(spec), netnsRefs(spec), async (r) => {
        await this.one(new LinkAddRequest(spec, r));
        // The kernel ignores IFLA_IFALIAS in a request that creates a link
        // (`ip link add ... alias X` loses it too), so set it once the link exists.
        if (spec.alias !== undefined) await this.one(new LinkSetRequest(spec.name, { alias: spec.alias }, r));
      });
    },
    /** Changes a link: up/down, master/nomaster, mtu, name, MAC, group, alias, namespace. */
    set: async (ref: LinkRef, changes: LinkChanges): Promise<void> => {
      checked(`link set ${ref}`, () => {
        checkRef('link', ref);
        validateLinkChanges(changes);
      });
      const refs = changes.name !== undefined ? [ref, ...linkRefs(changes)] : linkRefs(changes);
      await this.withResolved(`link set ${ref}`, refs, netnsRefs(changes), (r) => this.one(new LinkSetRequest(ref, changes, r)));
    },
    delete: async (ref: LinkRef): Promise<void> => {
      checked(`link delete ${ref}`, () => checkRef('link', ref));
      await this.one(new LinkDeleteRequest(ref));
    },
    /** Deletes every link in a device group with one request. */
    deleteGroup: async (group: number): Promise<void> => {
      if (!Number.isInteger(group) || group < 1 || group > 0xffffffff) {
        throw new ValidationError('group', group, 'must be an integer in 1-4294967295 (group 0 holds every ordinary device)').inOp(
          `link delete group ${group}`,
        );
      }
      await this.one(new LinkDeleteGroupRequest(group));
    },
    /** One link by name or ifindex, asked of the kernel directly; undefined if there is none. */
    get: async (ref: LinkRef): Promise<Link | undefined> => {
      checked(`link get ${ref}`, () => checkRef('link', ref));
      const [rep] = await this.rtnl.run([new LinkGetRequest(ref)]);
      if (rep!.error) {
        if (rep!.error.code === 'ENODEV') return undefined;
        throw rep!.error;
      }
      return decodeLink(rep!.messages[0]!);
    },
    /** All links, sorted by ifindex; the filter is applied by the kernel. */
    list: async (filter: LinkFilter = {}): Promise<Link[]> => {
      const msgs = await this.rtnl.dump(new LinkDumpRequest(filter));
      return msgs.map(decodeLink).sort((a, b) => a.index - b.index);
    },
  };

  readonly addresses = {
    add: async (spec: AddressSpec): Promise<void> => {
      checked(`address add ${spec?.address}`, () => validateAddress(spec));
      await this.withResolved(`address add ${spec.address}`, [spec.dev], [], (r) => this.one(new AddressAddRequest(spec, r)));
    },
    delete: async (spec: AddressSpec): Promise<void> => {
      checked(`address delete ${spec?.address}`, () => validateAddress(spec));
      await this.withResolved(`address delete ${spec.address}`, [spec.dev], [], (r) =>
        this.one(new AddressDeleteRequest(spec, r)),
      );
    },
    /** Addresses, optionally of one link and one family, sorted by link then address. */
    list: async (filter: { dev?: LinkRef; family?: 4 | 6 } = {}): Promise<Address[]> => {
      let index = 0;
      if (filter.dev !== undefined) {
        const { r } = await this.resolve('address list', [filter.dev]);
        index = r.index(filter.dev, 'dev');
      }
      const msgs = await this.rtnl.dump(new AddressDumpRequest(filter.family ?? 0, index));
      // Sorted by link, family and then numerically, each key computed once.
      return msgs
        .filter(isInetAddress)
        .map(decodeAddress)
        .filter((a) => index === 0 || a.index === index)
        .map((a) => ({ a, k: a.family === 4 ? `4${byteString(ipv4ToBytes(a.address))}` : `6${byteString(ipv6ToBytes(a.address))}` }))
        .sort((x, y) => x.a.index - y.a.index || byText(x.k, y.k))
        .map((x) => x.a);
    },
  };

  readonly routes = {
    add: async (spec: RouteSpec): Promise<void> => {
      checked(`route add ${spec?.dst}`, () => validateRoute(spec));
      const refs = spec.dev !== undefined ? [spec.dev] : [];
      await this.withResolved(`route add ${spec.dst}`, refs, [], (r) => this.one(new RouteAddRequest(spec, r)));
    },
    delete: async (spec: RouteSpec): Promise<void> => {
      checked(`route delete ${spec?.dst}`, () => validateRoute(spec));
      const refs = spec.dev !== undefined ? [spec.dev] : [];
      await this.withResolved(`route delete ${spec.dst}`, refs, [], (r) => this.one(new RouteDeleteRequest(spec, r)));
    },
    /**
     * Routes of one family, optionally of one table (default: main) and of one
     * protocol (rtm_protocol, filtered by the kernel), sorted by destination.
     */
    list: async (filter: { family?: 4 | 6; table?: number | 'all'; protocol?: number } = {}): Promise<Route[]> => {
      const msgs = await this.rtnl.dump(new RouteDumpRequest(filter.family ?? 4, filter.protocol ?? 0));
      const table = filter.table ?? 254;
      return msgs
        .map(decodeRoute)
        .filter((r) => table === 'all' || r.table === table)
        .sort((a, b) => byText(a.dst, b.dst) || (a.metric ?? 0) - (b.metric ?? 0));
    },
  };

  readonly taps = {
    /**
     * Creates persistent tap (or tun) devices through /dev/net/tun, all or none,
     * then applies any link attributes (master, up, mtu, group...) in one pipelined send.
     */
    create: async (names: string | string[], spec: TapSpec = {}): Promise<void> => {
      const list = typeof names === 'string' ? [names] : names;
      checked(`tap create ${list.join(' ')}`, () => {
        list.forEach((n, i) => validateLinkName(`taps[${i}]`, n));
        validateTapOptions(spec);
        validateLinkAttributes(spec);
      });
      const { tun, vnetHdr, multiQueue, owner, ownerGroup, ...changes } = spec;
      const opts: TapOptions = { tun, vnetHdr, multiQueue, owner, ownerGroup };
      const site = new Error();
      let indexes: Int32Array;
      try {
        indexes = await addon.tapCreate(netnsTarget(this.netns), list, opts, false);
      } catch (err) {
        throw nativeError(err, 'tap create', site);
      }
      if (Object.values(changes).every((v) => v === undefined)) return;
      try {
        if (changes.master !== undefined) await settleLinks(this.rtnl, indexes);
        await this.withResolved('tap create', linkRefs(changes), [], async (r) => {
          const replies = await this.rtnl.run(list.map((n) => new LinkSetRequest(n, changes, r)));
          const failed = replies.find((x) => x.error);
          if (failed) throw failed.error;
        });
      } catch (err) {
        await addon.tapDelete(netnsTarget(this.netns), list, opts, false)?.catch(() => undefined);
        throw err;
      }
    },
    delete: async (names: string | string[], opts: TapOptions = {}): Promise<void> => {
      const list = typeof names === 'string' ? [names] : names;
      checked(`tap delete ${list.join(' ')}`, () => list.forEach((n, i) => validateLinkName(`taps[${i}]`, n)));
      const site = new Error();
      try {
        await addon.tapDelete(netnsTarget(this.netns), list, opts, false);
      } catch (err) {
        throw nativeError(err, 'tap delete', site);
      }
    },
  };

  readonly sysctl = {
    get: async (key: string): Promise<string> => readSysctl(this.netns, key),
    set: async (key: string, value: string | number): Promise<void> => writeSysctl(this.netns, key, value),
  };
}

/** Opens a handle bound to one network namespace (default: the caller's). */
export function open(opts: OpenOptions = {}): Handle {
  return new Handle(opts.netns);
}
