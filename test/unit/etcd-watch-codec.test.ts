// The hand-written Watch codec (src/store/etcd-watch-codec.ts): the request
// against protobufjs loading etcd's own rpc.proto (the one etcd3 ships), the
// responses on bytes a real etcd (3.4) sent to a watch of /p/ (captured with
// the lean channel's stream: a created response, a put, a put of non-ASCII
// text, a delete, a transaction of two puts in one response; then a watch
// from a compacted revision), and on protobufjs-encoded responses with every
// field set.
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { decodeWatchResponse, encodeWatchCreate } from '../../src/store/etcd-watch-codec.js';

const require = createRequire(import.meta.url);
const protobuf = require('protobufjs') as typeof import('protobufjs');
const root = new protobuf.Root().loadSync(require.resolve('etcd3/proto/rpc.proto'), { keepCase: true });
const WatchRequest = root.lookupType('etcdserverpb.WatchRequest');
const WatchResponse = root.lookupType('etcdserverpb.WatchResponse');

const captured = {
  created: '0a1a08d7d2b3feb0af8c8fe5011082a8f092f9d8c4b991011801200218' + '01',
  putA: '0a1a08d7d2b3feb0af8c8fe5011082a8f092f9d8c4b99101180220025a1712150a042f702f611002180220012a077b2278223a317d',
  putB: '0a1a08d7d2b3feb0af8c8fe5011082a8f092f9d8c4b99101180320025a1612140a042f702f621003180320012a0668c3a96c6c6f',
  delA: '0a1a08d7d2b3feb0af8c8fe5011082a8f092f9d8c4b99101180420025a0c080112080a042f702f611804',
  txn: '0a1a08d7d2b3feb0af8c8fe5011082a8f092f9d8c4b99101180520025a11120f0a042f702f631005180520012a01315a11120f0a042f702f641005180520012a0132',
  compacted: '0a1808d7d2b3feb0af8c8fe5011082a8f092f9d8c4b99101200220012805',
};
const dec = (hex: string) => decodeWatchResponse(Buffer.from(hex, 'hex'));

describe('etcd Watch codec', () => {
  it('encodes a WatchRequest{create_request} as protobufjs does (start revision 0 left out)', () => {
    for (const w of [
      { key: Buffer.from('/eucanet/c/state/'), rangeEnd: Buffer.from('/eucanet/c/state0'), startRevision: 123456 },
      { key: Buffer.from('/p/'), rangeEnd: Buffer.from('/p0'), startRevision: 0 },
      { key: Buffer.alloc(300, 0x61), rangeEnd: Buffer.alloc(200, 0x62), startRevision: 2 ** 40 + 7 },
    ]) {
      const create = { key: w.key, range_end: w.rangeEnd, ...(w.startRevision ? { start_revision: w.startRevision } : {}) };
      const want = WatchRequest.encode(WatchRequest.fromObject({ create_request: create })).finish();
      expect(encodeWatchCreate(w).toString('hex')).toBe(Buffer.from(want).toString('hex'));
    }
  });

  it("decodes etcd's own responses: created, puts (UTF-8 values), a delete, two events of one transaction, a compacted start", () => {
    expect(dec(captured.created)).toMatchObject({ revision: 1, created: true, canceled: false, events: [] });
    expect(dec(captured.putA)).toMatchObject({
      revision: 2,
      created: false,
      events: [{ type: 'Put', kv: { key: '/p/a', value: '{"x":1}', mod_revision: 2 } }],
    });
    expect(dec(captured.putB).events).toEqual([{ type: 'Put', kv: { key: '/p/b', value: 'héllo', mod_revision: 3 } }]);
    expect(dec(captured.delA).events).toEqual([{ type: 'Delete', kv: { key: '/p/a', value: '', mod_revision: 4 } }]);
    expect(dec(captured.txn).events).toEqual([
      { type: 'Put', kv: { key: '/p/c', value: '1', mod_revision: 5 } },
      { type: 'Put', kv: { key: '/p/d', value: '2', mod_revision: 5 } },
    ]);
    expect(dec(captured.compacted)).toMatchObject({ canceled: true, compactRevision: 5, events: [] });
  });

  it('decodes what protobufjs encodes with every field set (prev_kv, 64-bit ids, a cancel reason) and skips what it does not keep', () => {
    const kv = (key: string, value: string, mod: number) => ({
      key: Buffer.from(key),
      value: Buffer.from(value),
      create_revision: 3,
      mod_revision: mod,
      version: 7,
      lease: '7587869915226372099',
    });
    const msg = WatchResponse.fromObject({
      header: { cluster_id: '14841639068965178418', member_id: '10276657743932975437', revision: 2 ** 45 + 9, raft_term: 3 },
      watch_id: 42,
      created: false,
      canceled: true,
      compact_revision: 2 ** 33,
      cancel_reason: 'mvcc: required revision has been compacted',
      fragment: false,
      events: [
        { type: 'Put', kv: kv('s/ü', 'é'.repeat(200), 2 ** 45 + 1), prev_kv: kv('s/ü', 'old', 10) },
        { type: 'Delete', kv: kv('s/x', '', 2 ** 45 + 2) },
      ],
    });
    const got = decodeWatchResponse(Buffer.from(WatchResponse.encode(msg).finish()));
    expect(got).toEqual({
      revision: 2 ** 45 + 9,
      watchId: 42,
      created: false,
      canceled: true,
      compactRevision: 2 ** 33,
      cancelReason: 'mvcc: required revision has been compacted',
      events: [
        { type: 'Put', kv: { key: 's/ü', value: 'é'.repeat(200), mod_revision: 2 ** 45 + 1 } },
        { type: 'Delete', kv: { key: 's/x', value: '', mod_revision: 2 ** 45 + 2 } },
      ],
    });
  });

  it('refuses a cut-short response with a clear error', () => {
    expect(() => dec(captured.putA.slice(0, -10))).toThrow(/truncated/);
  });
});
