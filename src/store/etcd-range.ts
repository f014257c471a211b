// The etcd store's full reads (a range of every key under the state prefix)
// over gRPC with the hand-written codec of etcd-range-codec.ts, on a channel
// of its own (@grpc/grpc-js, the transport etcd3 itself uses). The agent's
// cold start and every resync read the whole state: at 5000 instances
// etcd3's generic decoding of the reply (objects, Buffers, 64-bit numbers
// turned into strings) was most of the read's CPU. Every other call (writes,
// watches, leases) stays on etcd3's client.
//
// Only without etcd's user/password authentication (the token it needs is
// etcd3's business): with `auth`, the store reads through etcd3 (etcd-client's
// etcd3Range). TLS is the same as etcd3's: the CA (or the system's roots) and
// an optional client certificate.
import { Client, credentials, type ChannelCredentials, type ServiceError } from '@grpc/grpc-js';
import type { EtcdConnectOptions } from './etcd-client.js';
import { decodeRangeResponse, encodeRangeRequest, type RangeReply, type RangeRequest } from './etcd-range-codec.js';

const RANGE = '/etcdserverpb.KV/Range';
/** grpc's status code UNAVAILABLE (no connection): the request goes to the next URL. */
const UNAVAILABLE = 14;

export type RangeFn = (req: RangeRequest) => Promise<RangeReply>;

/** A channel per URL, opened on first use; a range goes to the first URL that answers. */
export class EtcdRangeClient {
  private readonly clients: (Client | undefined)[];
  private readonly creds: ChannelCredentials;
  private readonly hosts: string[];
  private readonly secure: boolean;

  constructor(private readonly o: EtcdConnectOptions & { timeoutMs: number }) {
    this.hosts = o.urls.map((u) => u.replace(/^https?:\/\//, '').replace(/\/$/, ''));
    this.clients = this.hosts.map(() => undefined);
    this.secure = !!o.tls || o.urls.some((u) => u.startsWith('https://'));
    this.creds = this.secure ? credentials.createSsl(o.tls?.ca ?? null, o.tls?.key ?? null, o.tls?.cert ?? null) : credentials.createInsecure();
  }

  private client(i: number): Client {
    let c = this.clients[i];
    if (!c) {
      c = new Client(this.hosts[i], this.creds, { 'grpc.max_receive_message_length': 64 * 1024 * 1024 });
      this.clients[i] = c;
    }
    return c;
  }

  private once(i: number, req: RangeRequest): Promise<RangeReply> {
    return new Promise((resolve, reject) => {
      this.client(i).makeUnaryRequest(
        RANGE,
        encodeRangeRequest,
        decodeRangeResponse,
        req,
        { deadline: Date.now() + this.o.timeoutMs },
        (err: ServiceError | null, res?: RangeReply) => (err || !res ? reject(err ?? new Error('empty Range reply')) : resolve(res)),
      );
    });
  }

  /** One Range call; an unavailable URL passes it to the next (each URL twice at most, as etcd3's calls here). */
  readonly range: RangeFn = async (req) => {
    const n = this.hosts.length;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.once(attempt % n, req);
      } catch (err) {
        if ((err as ServiceError)?.code !== UNAVAILABLE || attempt + 1 >= n * 2) throw err;
      }
    }
  };

  close(): void {
    for (const c of this.clients) c?.close();
    this.clients.fill(undefined);
  }
}
