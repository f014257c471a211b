// matchReplies (src/netlink/match.ts) takes the plain acks of applied
// requests without a message object or a decode: held here against the
// general path (splitMessages + decodeError + requestError) on replies that
// mix acks, refusals with extended-ACK messages, acks carrying attributes,
// data messages, and replies to other requests; and on malformed replies,
// which must fail with the same DecodeError.
import { describe, expect, it } from 'vitest';
import { decodeError, requestError } from '../../src/netlink/ack.js';
import { NLMSG_ERROR, NLM_F_ACK_TLVS, NLM_F_CAPPED, NLMSGERR_ATTR_MSG } from '../../src/netlink/constants.js';
import { matchReplies } from '../../src/netlink/match.js';
import { splitMessages } from '../../src/netlink/reader.js';
import type { Reply, Request } from '../../src/netlink/socket.js';
import { NlWriter } from '../../src/netlink/writer.js';
import { decodeErrorOf } from '../helpers/decode.js';

const req = (i: number): Request => ({ describe: () => `request ${i}`, encode: () => undefined });

/** An NLMSG_ERROR for `seq`: `errno` 0 is an ack; with `msg`, an extended-ACK message attribute. */
function ack(w: NlWriter, seq: number, errno = 0, msg?: string): void {
  w.beginMessage(NLMSG_ERROR, NLM_F_CAPPED | (msg !== undefined ? NLM_F_ACK_TLVS : 0), seq);
  w.rawU32(-errno >>> 0);
  // The echoed request header (CAP_ACK: the header only).
  w.rawU32(16);
  w.rawU16(16);
  w.rawU16(5);
  w.rawU32(seq);
  w.rawU32(0);
  if (msg !== undefined) w.str(NLMSGERR_ATTR_MSG, msg);
  w.endMessage();
}

/** A data message (an RTM_NEWLINK-like answer) for `seq`. */
function data(w: NlWriter, seq: number, bytes: number): void {
  w.beginMessage(16, 0, seq);
  for (let k = 0; k < bytes; k++) w.rawU8(k & 255);
  w.endMessage();
}

/** The general path, as NetlinkConnection matched replies before. */
function general(requests: readonly Request[], first: number, reply: Buffer, base?: number) {
  const out: Reply[] = requests.map(() => ({ messages: [] }));
  const acked = new Uint8Array(requests.length);
  for (const m of splitMessages(reply)) {
    if (m.type === NLMSG_ERROR) {
      const e = decodeError(m);
      const i = (e.seq - first) >>> 0;
      if (i >= requests.length) continue;
      acked[i] = 1;
      if (e.errno !== 0) out[i].error = requestError(requests[i], e, base !== undefined ? base + i : undefined);
    } else {
      const i = (m.seq - first) >>> 0;
      if (i < requests.length) out[i].messages.push(m);
    }
  }
  return { out, acked };
}

const shape = (r: { out: Reply[]; acked: Uint8Array }) => ({
  acked: [...r.acked],
  out: r.out.map((x) => ({
    messages: x.messages.map((m) => [m.type, m.flags, m.seq, m.port, m.offset, m.length]),
    error: x.error && { code: x.error.code, message: x.error.message, opIndex: x.error.opIndex },
  })),
});

describe('matchReplies', () => {
  it('matches a mixed reply exactly as the general path does', () => {
    const first = 0xfffffff0; // the sequence numbers wrap within the exchange
    const n = 40;
    const w = new NlWriter(1024);
    let rnd = 7;
    const next = () => ((rnd = (Math.imul(rnd, 1103515245) + 12345) >>> 0) >>> 16) % 10;
    for (let i = 0; i < n; i++) {
      const seq = (first + i) >>> 0;
      const k = next();
      if (k < 2) data(w, seq, 1 + next() * 37);
      if (k === 3) ack(w, seq, 17, `object ${i} exists`);
      else if (k === 4) ack(w, seq, 0, 'applied, with a note');
      else if (k === 5) ack(w, seq, 19);
      else if (k !== 6) ack(w, seq); // k === 6: no answer at all
    }
    ack(w, (first + n + 3) >>> 0); // another request's ack
    data(w, 12345, 8);
    const reply = Buffer.from(w.bytes());
    const requests = Array.from({ length: n }, (_, i) => req(i));
    const want = shape(general(requests, first, reply, 100));
    expect(shape(matchReplies(requests, first, reply, 100))).toEqual(want);
    expect(want.acked.filter((a) => a === 0).length).toBeGreaterThan(0);
    expect(want.out.filter((o) => o.error).length).toBeGreaterThan(1);
    expect(want.out.filter((o) => o.messages.length).length).toBeGreaterThan(1);
  });

  it('names the op and the kernel message of a refusal', () => {
    const w = new NlWriter(256);
    ack(w, 5);
    ack(w, 6, 17, 'File exists');
    const { out, acked } = matchReplies([req(0), req(1)], 5, Buffer.from(w.bytes()));
    expect([...acked]).toEqual([1, 1]);
    expect(out[0].error).toBeUndefined();
    expect(out[1].error?.code).toBe('EEXIST');
    expect(out[1].error?.message).toMatch(/request 1.*File exists/);
  });

  it('fails on a malformed reply with the same DecodeError as splitMessages', () => {
    const w = new NlWriter(256);
    ack(w, 1);
    const good = Buffer.from(w.bytes());
    const cases = [
      Buffer.concat([good, Buffer.alloc(7)]), // trailing bytes too few for a header
      (() => {
        const b = Buffer.from(good);
        b.writeUInt32LE(good.length + 4, 0); // a length past the buffer
        return b;
      })(),
      (() => {
        const b = Buffer.from(good);
        b.writeUInt32LE(8, 0); // shorter than its header
        return b;
      })(),
    ];
    for (const b of cases) {
      const want = decodeErrorOf(() => splitMessages(b));
      expect(decodeErrorOf(() => matchReplies([req(0)], 1, b)).message).toBe(want.message);
    }
    // An NLMSG_ERROR too short for struct nlmsgerr is refused as decodeError refuses it.
    const short = new NlWriter(64);
    short.beginMessage(NLMSG_ERROR, 0, 1);
    short.rawU32(0);
    short.endMessage();
    const b = Buffer.from(short.bytes());
    const want = decodeErrorOf(() => decodeError(splitMessages(b)[0]));
    expect(decodeErrorOf(() => matchReplies([req(0)], 1, b)).message).toBe(want.message);
  });
});

describe('splitMessages (byte reads)', () => {
  it('reads every header field unsigned, as Buffer.readUInt*LE does, high bits included', () => {
    const parts: Buffer[] = [];
    let rnd = 99;
    const next = () => (rnd = (Math.imul(rnd, 1103515245) + 12345) >>> 0);
    for (let i = 0; i < 50; i++) {
      const len = 16 + (next() % 40);
      const b = Buffer.alloc((len + 3) & ~3);
      b.writeUInt32LE(len, 0);
      b.writeUInt16LE(next() & 0xffff, 4);
      b.writeUInt16LE(next() & 0xffff, 6);
      b.writeUInt32LE(i & 1 ? (next() | 0x80000000) >>> 0 : next() & 0x7fffffff, 8);
      b.writeUInt32LE(next(), 12);
      parts.push(b);
    }
    const buf = Buffer.concat(parts);
    let off = 0;
    const want = parts.map((p) => {
      const m = { length: p.readUInt32LE(0), type: p.readUInt16LE(4), flags: p.readUInt16LE(6), seq: p.readUInt32LE(8), port: p.readUInt32LE(12), offset: off };
      off += p.length;
      return m;
    });
    expect(splitMessages(buf).map(({ length, type, flags, seq, port, offset }) => ({ length, type, flags, seq, port, offset }))).toEqual(want);
    expect(want.some((m) => m.seq >= 0x80000000 && m.type >= 0x8000)).toBe(true);
  });
});
