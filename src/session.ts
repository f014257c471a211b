// A session: one network namespace and the connections into it (rtnetlink,
// opened now; nftables and conntrack, each opened on first use). Everything that sends ops
// (tx/: commit, the one-op executor, reconcile) works on a Session; the public
// Handle (handle.ts) is a Session with typed verbs on top.
import { NETLINK_NETFILTER, NETLINK_ROUTE } from './netlink/constants.js';
import { NetlinkConnection } from './netlink/socket.js';
import { Nft } from './nft/nft.js';
import type { Netns } from './sys/netns-path.js';

export class Session {
  /** @internal The rtnetlink connection (the executor's; not part of the API). */
  readonly rtnl: NetlinkConnection;
  private nftHandle?: Nft;
  private ctConn?: NetlinkConnection;

  constructor(readonly netns?: Netns) {
    this.rtnl = new NetlinkConnection(NETLINK_ROUTE, netns);
  }

  /** nftables in the same namespace (its socket is opened on first use). */
  get nft(): Nft {
    return (this.nftHandle ??= new Nft({ netns: this.netns }));
  }

  /**
   * The netlink port ids of this session's request sockets (rtnetlink, and
   * nftables, which this opens if it is not yet): notifications of changes
   * made through this session carry one of them as their `port`.
   */
  get ports(): number[] {
    return [this.rtnl.port, this.nft.conn.port];
  }

  /**
   * @internal ctnetlink (NETLINK_NETFILTER, like nftables) in the same
   * namespace, opened on first use. Its own socket rather than nft's: a
   * connection runs one exchange at a time, so a long conntrack dump or flush
   * would otherwise hold up nft commits (and the reverse); and a socket that
   * joins nftables' event groups must not also carry conntrack replies.
   */
  get ct(): NetlinkConnection {
    return (this.ctConn ??= new NetlinkConnection(NETLINK_NETFILTER, this.netns));
  }

  close(): void {
    this.rtnl.close();
    this.nftHandle?.close();
    this.ctConn?.close();
  }
}
