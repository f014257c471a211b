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
  private rtnlReadConn?: NetlinkConnection;

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

  /**
   * @internal A second rtnetlink connection, opened on first use, for dumps
   * that run beside one on `rtnl`: a connection runs one exchange at a time,
   * and a re-apply's link dump (the kernel's fill of every link: 10 ms at
   * 1000 taps) would otherwise hold up its address and route dumps. It sends
   * no change, so notifications never carry its port.
   */
  get rtnlRead(): NetlinkConnection {
    return (this.rtnlReadConn ??= new NetlinkConnection(NETLINK_ROUTE, this.netns));
  }

  close(): void {
    this.rtnl.close();
    this.rtnlReadConn?.close();
    this.nftHandle?.close();
    this.ctConn?.close();
  }
}
