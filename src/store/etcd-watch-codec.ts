// etcd's Watch call on the wire (protobuf), encoded and decoded by hand for
// the agent's watch of the state prefix (etcd-watch-lean.ts): one
// WatchCreateRequest out, then WatchResponses in, each decoded to what the
// key cache needs (etcd-cache.ts CacheEvent: the type, the key, the value as
// text and the mod revision) and nothing else (etcd3's generic decoding made
// objects, Buffers and 64-bit numbers turned into strings of every field).
//
// Field numbers from etcd's api/etcdserverpb/rpc.proto and api/mvccpb/kv.proto:
//   WatchRequest       { oneof request_union { WatchCreateRequest create_request = 1; WatchCancelRequest cancel_request = 2;
//                        WatchProgressRequest progress_request = 3; } }
//   WatchCreateRequest { bytes key = 1; bytes range_end = 2; int64 start_revision = 3; bool progress_notify = 4;
//                        repeated FilterType filters = 5; bool prev_kv = 6; int64 watch_id = 7; bool fragment = 8; }
//   WatchResponse      { ResponseHeader header = 1; int64 watch_id = 2; bool created = 3; bool canceled = 4;
//                        int64 compact_revision = 5; string cancel_reason = 6; bool fragment = 7; repeated Event events = 11; }
//   Event              { EventType type = 1 (PUT = 0, DELETE = 1); KeyValue kv = 2; KeyValue prev_kv = 3; }
// No `fragment` is asked for, so etcd sends every response whole.
import type { CacheEvent } from './etcd-cache.js';
import { decodeHeaderRevision, decodeKv, LEN, Reader, VARINT, varintBytes } from './etcd-range-codec.js';

export interface WatchCreate {
  key: Buffer;
  rangeEnd: Buffer;
  /** The first revision to deliver (0: from the current one on). */
  startRevision: number;
}

export interface WatchReply {
  /** The store's revision when etcd sent it (the response header's). */
  revision: number;
  watchId: number;
  created: boolean;
  canceled: boolean;
  /** With `canceled`: the oldest revision still kept, when the start revision was compacted (else 0). */
  compactRevision: number;
  cancelReason: string;
  events: CacheEvent[];
}

const tagLen = (field: number, len: number) => [(field << 3) | LEN, ...varintBytes(len)];

/** A WatchRequest holding one WatchCreateRequest. */
export function encodeWatchCreate(w: WatchCreate): Buffer {
  const body = Buffer.concat([
    Buffer.from(tagLen(1, w.key.length)),
    w.key,
    Buffer.from(tagLen(2, w.rangeEnd.length)),
    w.rangeEnd,
    Buffer.from(w.startRevision ? [(3 << 3) | VARINT, ...varintBytes(w.startRevision)] : []),
  ]);
  return Buffer.concat([Buffer.from(tagLen(1, body.length)), body]);
}

function decodeEvent(buf: Buffer, start: number, end: number): CacheEvent | undefined {
  const r = new Reader(buf, start, end);
  let type = 0;
  let kv: CacheEvent['kv'] | undefined;
  while (r.pos < end) {
    const tag = r.varint();
    if (tag === ((1 << 3) | VARINT)) type = r.varint();
    else if (tag === ((2 << 3) | LEN)) {
      const k = decodeKv(buf, ...r.span());
      kv = { key: k.key, value: k.value, mod_revision: k.modRevision };
    } else r.skip(tag & 7);
  }
  if (!kv) return undefined;
  return { type: type === 1 ? 'Delete' : 'Put', kv };
}

/** A WatchResponse: its header's revision, the watch's state and its events (events without a key-value are dropped). */
export function decodeWatchResponse(buf: Buffer): WatchReply {
  const r = new Reader(buf, 0, buf.length);
  const out: WatchReply = { revision: 0, watchId: 0, created: false, canceled: false, compactRevision: 0, cancelReason: '', events: [] };
  while (r.pos < buf.length) {
    const tag = r.varint();
    const field = Math.floor(tag / 8);
    const wire = tag & 7;
    if (field === 1 && wire === LEN) out.revision = decodeHeaderRevision(buf, ...r.span());
    else if (field === 2 && wire === VARINT) out.watchId = r.varint();
    else if (field === 3 && wire === VARINT) out.created = r.varint() !== 0;
    else if (field === 4 && wire === VARINT) out.canceled = r.varint() !== 0;
    else if (field === 5 && wire === VARINT) out.compactRevision = r.varint();
    else if (field === 6 && wire === LEN) out.cancelReason = buf.toString('utf8', ...r.span());
    else if (field === 11 && wire === LEN) {
      const e = decodeEvent(buf, ...r.span());
      if (e) out.events.push(e);
    } else r.skip(wire);
  }
  return out;
}
