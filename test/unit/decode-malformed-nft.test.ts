// Malformed nftables replies: the names of kernel numbers (nft/names.ts),
// set elements, generations and expressions throw DecodeError, not plain
// Errors; shapes the typed form cannot hold stay raw expressions.
import { describe, expect, it } from 'vitest';
import { Attrs } from '../../src/netlink/reader.js';
import {
  NFTA_CHAIN_HOOK,
  NFTA_CHAIN_NAME,
  NFTA_CHAIN_TABLE,
  NFTA_DATA_VALUE,
  NFTA_DATA_VERDICT,
  NFTA_EXPR_DATA,
  NFTA_EXPR_NAME,
  NFTA_HOOK_HOOKNUM,
  NFTA_LIST_ELEM,
  NFTA_SET_ELEM_DATA,
  NFTA_SET_ELEM_KEY,
  NFTA_SET_ELEM_LIST_ELEMENTS,
  NFTA_TABLE_NAME,
  NFTA_VERDICT_CODE,
  NFT_MSG_NEWCHAIN,
  NFT_MSG_NEWGEN,
  NFT_MSG_NEWSETELEM,
  NFT_MSG_NEWTABLE,
} from '../../src/nft/wire/constants.js';
import {
  NFTA_BITWISE_DATA,
  NFTA_BITWISE_DREG,
  NFTA_BITWISE_LEN,
  NFTA_BITWISE_OP,
  NFTA_BITWISE_SREG,
  NFT_BITWISE_LSHIFT,
} from '../../src/nft/wire/expr/constants.js';
import { decodeChain, decodeElements, decodeExpr, decodeGeneration, decodeTable } from '../../src/nft/index.js';
import { beginNft } from '../../src/nft/wire/ops.js';
import { decodeErrorOf, message } from '../helpers/decode.js';

describe('nftables names of kernel numbers (nft/names.ts) throw DecodeError', () => {
  const table = (family: number) =>
    message((w) => {
      beginNft(w, NFT_MSG_NEWTABLE, 0, 1, family);
      w.str(NFTA_TABLE_NAME, 't');
      w.endMessage();
    });

  it('an unknown nfgen_family', () => {
    expect(decodeTable(table(2)).family).toBe('ip');
    expect(decodeErrorOf(() => decodeTable(table(99)))).toMatchObject({ what: 'nfgenmsg', offset: 16 });
  });

  it('an unknown hook number', () => {
    const m = message((w) => {
      beginNft(w, NFT_MSG_NEWCHAIN, 0, 1, 2);
      w.str(NFTA_CHAIN_TABLE, 't');
      w.str(NFTA_CHAIN_NAME, 'c');
      const h = w.nestStart(NFTA_CHAIN_HOOK, true);
      w.u32be(NFTA_HOOK_HOOKNUM, 77);
      w.nestEnd(h);
      w.endMessage();
    });
    expect(decodeErrorOf(() => decodeChain(m)).message).toMatch(/unknown hook 77 in family ip/);
  });

  it('an unknown verdict code in a verdict map element', () => {
    const m = message((w) => {
      beginNft(w, NFT_MSG_NEWSETELEM, 0, 1, 2);
      const list = w.nestStart(NFTA_SET_ELEM_LIST_ELEMENTS, true);
      const e = w.nestStart(NFTA_LIST_ELEM, true);
      const k = w.nestStart(NFTA_SET_ELEM_KEY, true);
      w.binary(NFTA_DATA_VALUE, Buffer.from([10, 0, 0, 1]));
      w.nestEnd(k);
      const d = w.nestStart(NFTA_SET_ELEM_DATA, true);
      const v = w.nestStart(NFTA_DATA_VERDICT, true);
      w.u32be(NFTA_VERDICT_CODE, 12345);
      w.nestEnd(v);
      w.nestEnd(d);
      w.nestEnd(e);
      w.nestEnd(list);
      w.endMessage();
    });
    const set = { family: 'ip', table: 't', name: 'm', key: 'ipv4_addr', data: 'verdict' } as const;
    expect(decodeErrorOf(() => decodeElements([m], set)).message).toMatch(/unknown verdict code 12345/);
  });

  it('an element key of the wrong length for its set', () => {
    const m = message((w) => {
      beginNft(w, NFT_MSG_NEWSETELEM, 0, 1, 2);
      const list = w.nestStart(NFTA_SET_ELEM_LIST_ELEMENTS, true);
      const e = w.nestStart(NFTA_LIST_ELEM, true);
      const k = w.nestStart(NFTA_SET_ELEM_KEY, true);
      w.binary(NFTA_DATA_VALUE, Buffer.from([10, 0, 1]));
      w.nestEnd(k);
      w.nestEnd(e);
      w.nestEnd(list);
      w.endMessage();
    });
    const set = { family: 'ip', table: 't', name: 's', key: 'ipv4_addr' } as const;
    expect(decodeErrorOf(() => decodeElements([m], set)).message).toMatch(/key of 3 bytes in a set of 4-byte keys/);
  });

  it('NFT_MSG_NEWGEN without NFTA_GEN_ID', () => {
    const m = message((w) => {
      beginNft(w, NFT_MSG_NEWGEN, 0, 1, 0);
      w.endMessage();
    });
    expect(decodeErrorOf(() => decodeGeneration(m)).message).toMatch(/no NFTA_GEN_ID/);
  });
});

describe('nftables expressions', () => {
  const bitwise = (data: Buffer) => {
    const m = message((w) => {
      w.beginMessage(1, 0, 1);
      const e = w.nestStart(NFTA_LIST_ELEM, true);
      w.str(NFTA_EXPR_NAME, 'bitwise');
      const d = w.nestStart(NFTA_EXPR_DATA, true);
      w.u32be(NFTA_BITWISE_SREG, 1);
      w.u32be(NFTA_BITWISE_DREG, 1);
      w.u32be(NFTA_BITWISE_LEN, 4);
      w.u32be(NFTA_BITWISE_OP, NFT_BITWISE_LSHIFT);
      const v = w.nestStart(NFTA_BITWISE_DATA, true);
      w.binary(NFTA_DATA_VALUE, data);
      w.nestEnd(v);
      w.nestEnd(d);
      w.nestEnd(e);
      w.endMessage();
    });
    return new Attrs(m.buf, 16, m.length).nested(NFTA_LIST_ELEM)!;
  };

  it('a shift by a 4-byte amount decodes; by a 2-byte one is malformed, not a raw expression', () => {
    expect(decodeExpr(bitwise(Buffer.from([0, 0, 0, 8])))).toMatchObject({ kind: 'bitwise', shift: { op: 'lshift', bits: 8 } });
    expect(decodeErrorOf(() => decodeExpr(bitwise(Buffer.from([0, 8])))).message).toMatch(/shift data of 2 bytes/);
  });

  it('an expression the typed form cannot hold (unknown meta key) stays raw', () => {
    const m = message((w) => {
      w.beginMessage(1, 0, 1);
      const e = w.nestStart(NFTA_LIST_ELEM, true);
      w.str(NFTA_EXPR_NAME, 'meta');
      const d = w.nestStart(NFTA_EXPR_DATA, true);
      w.u32be(2 /* NFTA_META_KEY */, 999);
      w.u32be(1 /* NFTA_META_DREG */, 1);
      w.nestEnd(d);
      w.nestEnd(e);
      w.endMessage();
    });
    expect(decodeExpr(new Attrs(m.buf, 16, m.length).nested(NFTA_LIST_ELEM)!)).toMatchObject({ kind: 'raw', name: 'meta' });
  });
});

describe('verdict codes this library has no name for', () => {
  it('in an immediate expression (NF_QUEUE): the expression stays raw, as before', () => {
    const m = message((w) => {
      w.beginMessage(1, 0, 1);
      const e = w.nestStart(NFTA_LIST_ELEM, true);
      w.str(NFTA_EXPR_NAME, 'immediate');
      const d = w.nestStart(NFTA_EXPR_DATA, true);
      w.u32be(1 /* NFTA_IMMEDIATE_DREG */, 0);
      const data = w.nestStart(2 /* NFTA_IMMEDIATE_DATA */, true);
      const v = w.nestStart(NFTA_DATA_VERDICT, true);
      w.u32be(NFTA_VERDICT_CODE, 3 /* NF_QUEUE */);
      w.nestEnd(v);
      w.nestEnd(data);
      w.nestEnd(d);
      w.nestEnd(e);
      w.endMessage();
    });
    expect(decodeExpr(new Attrs(m.buf, 16, m.length).nested(NFTA_LIST_ELEM)!)).toMatchObject({ kind: 'raw', name: 'immediate' });
  });
});
