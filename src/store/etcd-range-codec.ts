// etcd's Range call on the wire (protobuf), encoded and decoded by hand for
// the one read that moves the whole state: a range of every key under the
// prefix (5000 instances: 5000 KeyValues). etcd3's generic decoding
// (protobufjs with `longs: String, defaults: true`) turns each KeyValue into
// an object with four 64-bit numbers converted to strings and two Buffers;
// the store keeps only the key, the value (as text) and the mod revision, so
// this decoder reads just those and skips the rest.
//
// Field numbers from etcd's api/etcdserverpb/rpc.proto and api/mvccpb/kv.proto:
//   RangeRequest   { bytes key = 1; bytes range_end = 2; int64 limit = 3; int64 revision = 4; ... }
//   RangeResponse  { ResponseHeader header = 1; repeated KeyValue kvs = 2; bool more = 3; int64 count = 4; }
//   ResponseHeader { uint64 cluster_id = 1; uint64 member_id = 2; int64 revision = 3; uint64 raft_term = 4; }
//   KeyValue       { bytes key = 1; int64 create_revision = 2; int64 mod_revision = 3; int64 version = 4;
//                    bytes value = 5; int64 lease = 6; }

/** Protobuf wire types. */
export const VARINT = 0;
const FIXED64 = 1;
export const LEN = 2;
const FIXED32 = 5;

export interface RangeRequest {
  key: Buffer;
  rangeEnd: Buffer;
  /** At most this many keys (0: no limit). */
  limit?: number;
  /** Read at this revision (0 or absent: the current one). */
  revision?: number;
  /** Newest mod revision first (sort_order DESCEND = 2, sort_target MOD = 3). */
  newestFirst?: boolean;
  /** Keys without their values (keys_only). */
  keysOnly?: boolean;
}

export interface RangeKv {
  key: string;
  value: string;
  modRevision: number;
}

export interface RangeReply {
  /** The store's revision the range was read at (the response header's). */
  revision: number;
  kvs: RangeKv[];
  /** More keys are in the range than `limit` let through. */
  more: boolean;
}

export function varintBytes(n: number): number[] {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`varint out of range: ${n}`);
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
  return out;
}

/** A RangeRequest's bytes. */
export function encodeRangeRequest(r: RangeRequest): Buffer {
  const parts: (Buffer | number[])[] = [];
  const bytesField = (field: number, b: Buffer) => parts.push([(field << 3) | LEN, ...varintBytes(b.length)], b);
  const intField = (field: number, n: number | undefined) => {
    if (n) parts.push([(field << 3) | VARINT, ...varintBytes(n)]);
  };
  bytesField(1, r.key);
  bytesField(2, r.rangeEnd);
  intField(3, r.limit);
  intField(4, r.revision);
  // RangeRequest { ... SortOrder sort_order = 5; SortTarget sort_target = 6; bool serializable = 7; bool keys_only = 8; }
  if (r.newestFirst) parts.push([(5 << 3) | VARINT, 2, (6 << 3) | VARINT, 3]);
  if (r.keysOnly) parts.push([(8 << 3) | VARINT, 1]);
  return Buffer.concat(parts.map((p) => (Buffer.isBuffer(p) ? p : Buffer.from(p))));
}

/** A reader over one message's bytes [pos, end). */
export class Reader {
  constructor(
    readonly buf: Buffer,
    public pos: number,
    readonly end: number,
  ) {}

  /** A varint as a number (exact up to 2^53; etcd's revisions stay far below). */
  varint(): number {
    let n = 0;
    let mul = 1;
    for (;;) {
      if (this.pos >= this.end) throw new RangeError('truncated varint in an etcd response');
      const b = this.buf[this.pos++];
      n += (b & 0x7f) * mul;
      if (b < 0x80) return n;
      mul *= 0x80;
    }
  }

  /** A varint as a BigInt (64-bit ids). */
  varintBig(): bigint {
    let n = 0n;
    let shift = 0n;
    for (;;) {
      if (this.pos >= this.end) throw new RangeError('truncated varint in an etcd response');
      const b = this.buf[this.pos++];
      n |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return n;
      shift += 7n;
    }
  }

  /** A length-delimited field's [start, end). */
  span(): [number, number] {
    const len = this.varint();
    const start = this.pos;
    this.pos += len;
    if (this.pos > this.end) throw new RangeError('truncated field in an etcd response');
    return [start, this.pos];
  }

  skip(wire: number): void {
    if (wire === VARINT) this.varint();
    else if (wire === LEN) this.span();
    else if (wire === FIXED64) this.pos += 8;
    else if (wire === FIXED32) this.pos += 4;
    else throw new RangeError(`unknown wire type ${wire} in an etcd response`);
    if (this.pos > this.end) throw new RangeError('truncated field in an etcd response');
  }
}

export function decodeKv(buf: Buffer, start: number, end: number): RangeKv {
  const r = new Reader(buf, start, end);
  let key = '';
  let value = '';
  let modRevision = 0;
  while (r.pos < end) {
    const tag = r.varint();
    const field = Math.floor(tag / 8);
    const wire = tag & 7;
    if (field === 1 && wire === LEN) key = buf.toString('utf8', ...r.span());
    else if (field === 5 && wire === LEN) value = buf.toString('utf8', ...r.span());
    else if (field === 3 && wire === VARINT) modRevision = r.varint();
    else r.skip(wire);
  }
  return { key, value, modRevision };
}

export function decodeHeaderRevision(buf: Buffer, start: number, end: number): number {
  const r = new Reader(buf, start, end);
  let revision = 0;
  while (r.pos < end) {
    const tag = r.varint();
    if (tag === ((3 << 3) | VARINT)) revision = r.varint();
    else r.skip(tag & 7);
  }
  return revision;
}

/** A RangeResponse's revision, keys (key, value as UTF-8 text, mod revision) and `more`. */
export function decodeRangeResponse(buf: Buffer): RangeReply {
  const r = new Reader(buf, 0, buf.length);
  const out: RangeReply = { revision: 0, kvs: [], more: false };
  while (r.pos < buf.length) {
    const tag = r.varint();
    const field = Math.floor(tag / 8);
    const wire = tag & 7;
    if (field === 1 && wire === LEN) out.revision = decodeHeaderRevision(buf, ...r.span());
    else if (field === 2 && wire === LEN) out.kvs.push(decodeKv(buf, ...r.span()));
    else if (field === 3 && wire === VARINT) out.more = r.varint() !== 0;
    else r.skip(wire);
  }
  return out;
}

// The first status of an agent goes over the same channel (etcd-range.ts
// EtcdLeanClient), before etcd3 is loaded:
//   LeaseGrantRequest  { int64 TTL = 1; int64 ID = 2; }
//   LeaseGrantResponse { ResponseHeader header = 1; int64 ID = 2; int64 TTL = 3; string error = 4; }
//   PutRequest         { bytes key = 1; bytes value = 2; int64 lease = 3; ... }
//   LeaseRevokeRequest { int64 ID = 1; }
// Lease ids are 64-bit: kept as decimal text (etcd3's form too), encoded from a BigInt.

function varintBig(n: bigint): number[] {
  if (n < 0n || n >= 1n << 64n) throw new RangeError(`varint out of range: ${n}`);
  const out: number[] = [];
  while (n >= 0x80n) {
    out.push(Number(n & 0x7fn) | 0x80);
    n >>= 7n;
  }
  out.push(Number(n));
  return out;
}

/** A LeaseGrantRequest for `ttl` seconds (etcd picks the id). */
export function encodeLeaseGrant(ttl: number): Buffer {
  return Buffer.from([(1 << 3) | VARINT, ...varintBytes(ttl)]);
}

/** A LeaseGrantResponse's lease id (decimal text) and TTL; etcd's `error`, if it gave one. */
export function decodeLeaseGrant(buf: Buffer): { id: string; ttl: number; error?: string } {
  const r = new Reader(buf, 0, buf.length);
  let id = 0n;
  let ttl = 0;
  let error: string | undefined;
  while (r.pos < buf.length) {
    const tag = r.varint();
    if (tag === ((2 << 3) | VARINT)) id = r.varintBig();
    else if (tag === ((3 << 3) | VARINT)) ttl = r.varint();
    else if (tag === ((4 << 3) | LEN)) error = buf.toString('utf8', ...r.span());
    else r.skip(tag & 7);
  }
  return { id: id.toString(), ttl, ...(error ? { error } : {}) };
}

/** A PutRequest of `key` = `value` under lease `lease` (decimal text). */
export function encodePut(req: { key: string; value: string; lease: string }): Buffer {
  return putEncoder(req.key, req.lease)(req.value);
}

/**
 * PutRequests of one key under one lease (an agent's status, put after every
 * sync): the key's and the lease's fields are encoded once, each put writes
 * the value between them into one buffer.
 */
export function putEncoder(key: string, lease: string): (value: string) => Buffer {
  const k = Buffer.from(key);
  const head = Buffer.concat([Buffer.from([(1 << 3) | LEN, ...varintBytes(k.length)]), k]);
  const tail = Buffer.from([(3 << 3) | VARINT, ...varintBig(BigInt(lease))]);
  return (value) => {
    const n = Buffer.byteLength(value);
    const len = varintBytes(n);
    const out = Buffer.allocUnsafe(head.length + 1 + len.length + n + tail.length);
    let at = head.copy(out, 0);
    out[at++] = (2 << 3) | LEN;
    for (const b of len) out[at++] = b;
    at += out.write(value, at, 'utf8');
    tail.copy(out, at);
    return out;
  };
}

/** A LeaseRevokeRequest of lease `id` (decimal text). */
export function encodeLeaseRevoke(id: string): Buffer {
  return Buffer.from([(1 << 3) | VARINT, ...varintBig(BigInt(id))]);
}

// The agent's lease is kept alive over the same channel (etcd-lease-lean.ts), a bidirectional stream:
//   LeaseKeepAliveRequest  { int64 ID = 1; }                 (the same bytes as a LeaseRevokeRequest)
//   LeaseKeepAliveResponse { ResponseHeader header = 1; int64 ID = 2; int64 TTL = 3; }
// A TTL of 0 (or less) in the answer: etcd does not know the lease (expired or revoked).

/** A LeaseKeepAliveRequest for lease `id` (decimal text). */
export const encodeLeaseKeepAlive = encodeLeaseRevoke;

/** A LeaseKeepAliveResponse's lease id (decimal text) and the TTL etcd renewed it to (seconds; 0: not found). */
export function decodeLeaseKeepAlive(buf: Buffer): { id: string; ttl: number } {
  const r = new Reader(buf, 0, buf.length);
  let id = 0n;
  let ttl = 0;
  while (r.pos < buf.length) {
    const tag = r.varint();
    if (tag === ((2 << 3) | VARINT)) id = r.varintBig();
    else if (tag === ((3 << 3) | VARINT)) {
      // int64: a negative TTL is ten bytes of two's complement; it means the lease is gone, as 0 does.
      const t = r.varintBig();
      ttl = t >= 1n << 63n ? -1 : Number(t);
    } else r.skip(tag & 7);
  }
  return { id: id.toString(), ttl };
}
