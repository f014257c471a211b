// Expressions one by one: every kind round-trips through encode/decode, and
// for every kind nft itself wrote in the fixtures, re-encoding the decoded
// expression gives back nft's exact bytes (per-expression golden bytes).
import { describe, expect, it } from 'vitest';
import { Attrs } from '../../src/netlink/reader.js';
import { NlWriter } from '../../src/netlink/writer.js';
import { decodeExpr, encodeExpr, type Expr } from '../../src/nft/index.js';
import { NO_SETS } from '../../src/nft/wire/expr/index.js';
import { fixture } from '../fixtures/nft/golden.js';

const NFTA_RULE_EXPRESSIONS = 4;
const NFTA_EXPR_NAME = 1;
const b = (hex: string) => Buffer.from(hex, 'hex');

function roundTrip(e: Expr): Expr {
  const w = new NlWriter(64);
  encodeExpr(w, e, NO_SETS);
  return decodeExpr(new Attrs(w.buf, 4, w.pos));
}

const ALL: Expr[] = [
  { kind: 'meta', key: 'l4proto', dreg: 1 },
  { kind: 'meta', key: 'mark', sreg: 1 },
  { kind: 'payload', base: 'network', offset: 16, len: 4, dreg: 1 },
  { kind: 'payload', base: 'transport', offset: 2, len: 2, sreg: 1, csumType: 1, csumOffset: 16, csumFlags: 1 },
  { kind: 'cmp', sreg: 1, op: 'eq', data: b('c0a820c8') },
  { kind: 'cmp', sreg: 1, op: 'neq', data: b('0a01') },
  { kind: 'cmp', sreg: 1, op: 'lt', data: b('0016') },
  { kind: 'cmp', sreg: 1, op: 'lte', data: b('0016') },
  { kind: 'cmp', sreg: 1, op: 'gt', data: b('0016') },
  { kind: 'cmp', sreg: 1, op: 'gte', data: b('0016') },
  { kind: 'bitwise', sreg: 1, dreg: 1, len: 4, mask: b('ffffffe0'), xor: b('00000000') },
  { kind: 'bitwise', sreg: 1, dreg: 2, len: 4, shift: { op: 'rshift', bits: 8 } },
  { kind: 'range', sreg: 1, op: 'neq', from: b('03e8'), to: b('07d0') },
  { kind: 'lookup', set: 'allowed', sreg: 1 },
  { kind: 'lookup', set: 'blocked', sreg: 1, invert: true },
  { kind: 'lookup', set: 'pubmap', sreg: 1, dreg: 1 },
  { kind: 'lookup', set: 'vm', sreg: 1, dreg: 0 },
  { kind: 'ct', key: 'state', dreg: 1 },
  { kind: 'ct', key: 'saddr', dreg: 1, direction: 'reply' },
  { kind: 'ct', key: 'mark', sreg: 1 },
  { kind: 'immediate', dreg: 0, verdict: { code: 'accept' } },
  { kind: 'immediate', dreg: 0, verdict: { code: 'drop' } },
  { kind: 'immediate', dreg: 0, verdict: { code: 'continue' } },
  { kind: 'immediate', dreg: 0, verdict: { code: 'return' } },
  { kind: 'immediate', dreg: 0, verdict: { code: 'jump', chain: 'admin-default' } },
  { kind: 'immediate', dreg: 0, verdict: { code: 'goto', chain: 'c' } },
  { kind: 'immediate', dreg: 2, data: b('2245') },
  { kind: 'nat', nat: 'dnat', family: 'ip', regAddrMin: 1 },
  { kind: 'nat', nat: 'snat', family: 'ip6', regAddrMin: 1, regAddrMax: 2, regProtoMin: 3, regProtoMax: 4, flags: ['random', 'persistent'] },
  { kind: 'masq' },
  { kind: 'masq', regProtoMin: 1, regProtoMax: 2, flags: ['fully-random'] },
  { kind: 'redir', regProtoMin: 1 },
  { kind: 'counter' },
  { kind: 'counter', packets: 5n, bytes: 300n },
  { kind: 'log', prefix: 'x ', level: 'info' },
  { kind: 'log', group: 2, snaplen: 100, qthreshold: 5 },
  { kind: 'limit', rate: 10, unit: 1, burst: 5, type: 'packets' },
  { kind: 'limit', rate: 1048576, unit: 60, burst: 102400, type: 'bytes', over: true },
  { kind: 'reject', type: 'icmp', code: 3 },
  { kind: 'reject', type: 'icmpx', code: 1 },
  { kind: 'reject', type: 'tcp-reset' },
  { kind: 'raw', name: 'quota', data: b('0c00010000000000000003e8') },
];

describe('expressions', () => {
  it.each(ALL.map((e) => [`${e.kind} ${JSON.stringify(e, (_k, v) => (typeof v === 'bigint' ? `${v}` : v)).slice(0, 60)}`, e]))('round-trips %s', (_name, e) => {
    expect(roundTrip(e)).toEqual(e);
  });

  it("re-encodes every expression nft wrote in the fixtures to nft's exact bytes", () => {
    const seen = new Set<string>();
    for (const name of ['seed', 'sets', 'misc', 'ops']) {
      for (const hex of fixture(name)) {
        const m = Buffer.from(hex, 'hex');
        if ((m.readUInt16LE(4) & 0xff) !== 6) continue; // NFT_MSG_NEWRULE
        const list = new Attrs(m, 20, m.length).nested(NFTA_RULE_EXPRESSIONS)!;
        list.each((_t, off, len) => {
          const elem = new Attrs(m, off, off + len);
          const e = decodeExpr(elem);
          expect(e.kind, `nft's ${elem.str(NFTA_EXPR_NAME)} decodes to a typed form`).not.toBe('raw');
          seen.add(e.kind);
          const w = new NlWriter(64);
          encodeExpr(w, e, { setId: () => (elem.str(NFTA_EXPR_NAME) === 'lookup' ? lookupSetId(elem) : undefined) });
          expect(w.bytes().subarray(4).toString('hex'), `${name}: ${e.kind}`).toBe(m.subarray(off, off + len).toString('hex'));
        });
      }
    }
    expect([...seen].sort()).toEqual([
      'bitwise',
      'cmp',
      'counter',
      'ct',
      'immediate',
      'limit',
      'log',
      'lookup',
      'masq',
      'meta',
      'nat',
      'payload',
      'range',
      'redir',
      'reject',
    ]);
  });

  it('keeps expressions it has no typed form for as raw bytes', () => {
    const w = new NlWriter(64);
    encodeExpr(w, { kind: 'raw', name: 'fib', data: b('0800010000000001') }, NO_SETS);
    const e = decodeExpr(new Attrs(w.buf, 4, w.pos));
    expect(e).toEqual({ kind: 'raw', name: 'fib', data: b('0800010000000001') });
  });
});

/** NFTA_LOOKUP_SET_ID of a lookup nft wrote (the id of a set in the same batch). */
function lookupSetId(elem: Attrs): number | undefined {
  return elem.nested(2)?.u32be(4);
}
