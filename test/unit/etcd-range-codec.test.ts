// The hand-written Range codec (src/store/etcd-range-codec.ts) against
// protobufjs loading etcd's own .proto files (those etcd3 ships): the same
// bytes for a request, the same fields out of a response, with the fields the
// store does not keep (64-bit lease ids, create revisions, versions) skipped.
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import {
  decodeLeaseGrant,
  decodeLeaseKeepAlive,
  decodeRangeResponse,
  encodeLeaseGrant,
  encodeLeaseKeepAlive,
  encodeLeaseRevoke,
  encodePut,
  encodeRangeRequest,
} from '../../src/store/etcd-range-codec.js';

const require = createRequire(import.meta.url);
const protobuf = require('protobufjs') as typeof import('protobufjs');
// keepCase: the fields by their .proto names (range_end, mod_revision), as etcd3 loads them.
const root = new protobuf.Root().loadSync(require.resolve('etcd3/proto/rpc.proto'), { keepCase: true });
const RangeRequest = root.lookupType('etcdserverpb.RangeRequest');
const RangeResponse = root.lookupType('etcdserverpb.RangeResponse');

describe('etcd Range codec', () => {
  it('encodes a RangeRequest as protobufjs does (key, range end, limit, revision; zeros left out)', () => {
    for (const r of [
      { key: Buffer.from('/eucanet/c/state/'), rangeEnd: Buffer.from('/eucanet/c/state0'), limit: 5000, revision: 123456789 },
      { key: Buffer.from('a'), rangeEnd: Buffer.from([0]) },
      { key: Buffer.alloc(300, 0x61), rangeEnd: Buffer.alloc(200, 0x62), limit: 1, revision: 2 ** 40 + 7 },
    ]) {
      const want = RangeRequest.encode(
        RangeRequest.fromObject({ key: r.key, range_end: r.rangeEnd, ...(r.limit ? { limit: r.limit } : {}), ...(r.revision ? { revision: r.revision } : {}) }),
      ).finish();
      expect(encodeRangeRequest(r).toString('hex')).toBe(Buffer.from(want).toString('hex'));
    }
  });

  it('decodes revision, keys, values and mod revisions, skipping the other fields', () => {
    const kvs = [
      { key: 'k/1', value: '{"id":"i-1"}', create_revision: 5, mod_revision: 5, version: 1, lease: 0 },
      { key: 'k/ü', value: 'é'.repeat(200), create_revision: 2 ** 33, mod_revision: 2 ** 45 + 3, version: 99, lease: '7587869915226372099' },
      { key: 'k/empty', value: '', create_revision: 1, mod_revision: 128, version: 1, lease: 1 },
    ];
    const msg = RangeResponse.fromObject({
      header: { cluster_id: '14841639068965178418', member_id: '10276657743932975437', revision: 2 ** 45 + 9, raft_term: 3 },
      kvs: kvs.map((kv) => ({ ...kv, key: Buffer.from(kv.key), value: Buffer.from(kv.value) })),
      more: true,
      count: 7,
    });
    const bytes = Buffer.from(RangeResponse.encode(msg).finish());
    expect(decodeRangeResponse(bytes)).toEqual({
      revision: 2 ** 45 + 9,
      more: true,
      kvs: kvs.map((kv) => ({ key: kv.key, value: kv.value, modRevision: kv.mod_revision })),
    });
    expect(decodeRangeResponse(Buffer.alloc(0))).toEqual({ revision: 0, more: false, kvs: [] });
  });

  it('refuses a truncated response instead of reading past it', () => {
    const bytes = Buffer.from(
      RangeResponse.encode(
        RangeResponse.fromObject({ header: { revision: 3 }, kvs: [{ key: Buffer.from('a'), value: Buffer.from('bcd'), mod_revision: 3 }] }),
      ).finish(),
    );
    expect(() => decodeRangeResponse(bytes.subarray(0, bytes.length - 2))).toThrow(/truncated/);
  });

  it('refuses a request number a varint cannot carry exactly', () => {
    expect(() => encodeRangeRequest({ key: Buffer.from('a'), rangeEnd: Buffer.from('b'), revision: -1 })).toThrow(/varint out of range/);
  });

  it('encodes LeaseGrant, Put (with a 64-bit lease) and LeaseRevoke as protobufjs does, and decodes a LeaseGrantResponse', () => {
    const enc = (type: string, o: Record<string, unknown>) =>
      Buffer.from(root.lookupType(type).encode(root.lookupType(type).fromObject(o)).finish()).toString('hex');
    const id = '7587869915226372099';
    expect(encodeLeaseGrant(10).toString('hex')).toBe(enc('etcdserverpb.LeaseGrantRequest', { TTL: 10 }));
    expect(encodePut({ key: '/eucanet/c/status/h', value: '{"a":"é"}', lease: id }).toString('hex')).toBe(
      enc('etcdserverpb.PutRequest', { key: Buffer.from('/eucanet/c/status/h'), value: Buffer.from('{"a":"é"}'), lease: id }),
    );
    expect(encodeLeaseRevoke(id).toString('hex')).toBe(enc('etcdserverpb.LeaseRevokeRequest', { ID: id }));
    const T = root.lookupType('etcdserverpb.LeaseGrantResponse');
    const res = Buffer.from(T.encode(T.fromObject({ header: { revision: 77, raft_term: 2 }, ID: id, TTL: 10 })).finish());
    expect(decodeLeaseGrant(res)).toEqual({ id, ttl: 10 });
    const refused = Buffer.from(T.encode(T.fromObject({ ID: 0, TTL: 0, error: 'lease already exists' })).finish());
    expect(decodeLeaseGrant(refused).error).toBe('lease already exists');
  });

  it('encodes a LeaseKeepAliveRequest and decodes its response as protobufjs does; a TTL of 0 or below is a lease gone', () => {
    const id = '7587869915226372099';
    const Q = root.lookupType('etcdserverpb.LeaseKeepAliveRequest');
    expect(encodeLeaseKeepAlive(id).toString('hex')).toBe(Buffer.from(Q.encode(Q.fromObject({ ID: id })).finish()).toString('hex'));
    const T = root.lookupType('etcdserverpb.LeaseKeepAliveResponse');
    const answer = (o: Record<string, unknown>) => Buffer.from(T.encode(T.fromObject(o)).finish());
    expect(decodeLeaseKeepAlive(answer({ header: { revision: 77, raft_term: 2 }, ID: id, TTL: 10 }))).toEqual({ id, ttl: 10 });
    expect(decodeLeaseKeepAlive(answer({ header: { revision: 78 }, ID: id, TTL: 0 }))).toEqual({ id, ttl: 0 });
    // int64 -1: ten bytes of two's complement on the wire.
    expect(decodeLeaseKeepAlive(answer({ ID: id, TTL: -1 })).ttl).toBeLessThanOrEqual(0);
  });
});
