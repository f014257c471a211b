// A netlink multicast subscription: a socket in one namespace joined to some
// groups, whose notifications arrive without a request. The addon delivers
// whole datagrams per drain of the socket (native/netlink_subscription.h);
// here they are split into messages, in order, and the kernel's "notifications
// were dropped" (ENOBUFS) becomes a 'lost' item at the place it was seen.
// What the messages mean is the caller's business (src/events/).
import { addon, nativeError, type NativeSubscription } from '../native.js';
import { ValidationError } from '../errors.js';
import { netnsTarget, type Netns } from '../sys/netns-path.js';
import { splitMessages, type NlMessage } from './reader.js';

/** One thing a subscription delivers: a notification, or the news that some were lost. */
export type SubscriptionItem = { kind: 'message'; message: NlMessage } | { kind: 'lost' };

export interface SubscriptionOptions {
  netns?: Netns;
  /** SO_RCVBUF in bytes; default 32 MiB (forced as root, else capped by net.core.rmem_max). */
  rcvbuf?: number;
  /** Called on the main loop with what one drain of the socket brought, in order. */
  onItems: (items: SubscriptionItem[]) => void;
  /** The socket failed (not ENOBUFS) and was closed; nothing follows. */
  onError: (err: Error) => void;
}

/** Opens a subscription to `groups` (multicast group numbers of `protocol`). */
export class Subscription {
  private readonly sock: NativeSubscription;
  closed = false;

  constructor(
    readonly protocol: number,
    readonly groups: readonly number[],
    private readonly o: SubscriptionOptions,
  ) {
    const rcvbuf = o.rcvbuf ?? 0;
    if (!Number.isInteger(rcvbuf) || rcvbuf < 0 || rcvbuf > 0x7fffffff) {
      throw new ValidationError('rcvbuf', o.rcvbuf, 'must be an integer number of bytes in 0-2147483647 (0: the default)');
    }
    try {
      this.sock = new addon.NetlinkSubscription(protocol, netnsTarget(o.netns), [...groups], rcvbuf, (buf, lost, error) => this.onData(buf, lost, error));
    } catch (err) {
      throw nativeError(err, `netlink subscribe${o.netns !== undefined ? ` in netns ${o.netns}` : ''}`);
    }
  }

  private onData(buf: Buffer | null, lost: boolean, error?: Error): void {
    if (this.closed) return;
    const items: SubscriptionItem[] = [];
    try {
      if (buf) for (const message of splitMessages(buf)) items.push({ kind: 'message', message });
    } catch {
      // A datagram that does not frame: what it held is unknown, so say so.
      items.push({ kind: 'lost' });
    }
    if (lost) items.push({ kind: 'lost' });
    if (items.length) this.o.onItems(items);
    if (error && !this.closed) {
      this.closed = true;
      this.o.onError(nativeError(error, 'netlink subscription'));
    }
  }

  /** The socket's netlink port id. */
  get port(): number {
    return this.sock.port;
  }

  /** The socket's fd (-1 once closed). */
  get fd(): number {
    return this.sock.fd;
  }

  /** Stops reading (the kernel's receive buffer fills; overflow becomes 'lost'). */
  pause(): void {
    if (!this.closed) this.sock.pause();
  }

  resume(): void {
    if (!this.closed) this.sock.resume();
  }

  /**
   * Reads what the kernel has queued now and delivers it (onItems) before
   * returning, paused or not: every notification sent before the call is then
   * heard, however late the loop would have polled the socket.
   */
  drain(): void {
    if (!this.closed) this.sock.drain();
  }

  /** Lets the process exit while the subscription is open. */
  unref(): void {
    if (!this.closed) this.sock.unref();
  }

  ref(): void {
    if (!this.closed) this.sock.ref();
  }

  /** Stops delivery at once and closes the socket: nothing is delivered afterwards. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.sock.close();
  }
}
