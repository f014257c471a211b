// A session: one network namespace and the connections into it (rtnetlink,
// opened now; nftables, opened on first use). Everything that sends ops
// (tx/: commit, the one-op executor, reconcile) works on a Session; the public
// Handle (handle.ts) is a Session with typed verbs on top.
import { NETLINK_ROUTE } from './netlink/constants.js';
import { NetlinkConnection } from './netlink/socket.js';
import { Nft } from './nft/nft.js';
import type { Netns } from './sys/netns-path.js';

export class Session {
  /** @internal The rtnetlink connection (the executor's; not part of the API). */
  readonly rtnl: NetlinkConnection;
  private nftHandle?: Nft;

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

  close(): void {
    this.rtnl.close();
    this.nftHandle?.close();
  }
}
