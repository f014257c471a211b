// decodeLink (src/rtnl/link-decode.ts) reads a link's attributes in one pass.
// Here it is held against the general path, the attribute index (Attrs) it
// replaced, on the captured rtnetlink replies of the fuzz seeds and on
// thousands of mutations of their RTM_NEWLINK messages: the same Link, or a
// DecodeError from both.
import { describe, expect, it } from 'vitest';
import { DecodeError } from '../../src/errors.js';
import { NLMSG_HDRLEN } from '../../src/netlink/constants.js';
import { Attrs, splitMessages, type NlMessage } from '../../src/netlink/reader.js';
import * as A from '../../src/rtnl/attrs.js';
import { IFF_UP, IFINFOMSG_LEN, OPERSTATES, RTM_NEWLINK } from '../../src/rtnl/constants.js';
import { KINDS } from '../../src/rtnl/kinds/index.js';
import { decodeLink, type Link } from '../../src/rtnl/link-decode.js';
import { formatMac } from '../../src/util/ip.js';
import { NlWriter } from '../../src/netlink/writer.js';
import { corpus, mutate, singles } from '../fuzz/mutate.js';
import { Rng } from '../fuzz/prng.js';
import { seeds } from '../fuzz/seeds.js';

/** The general path: every attribute indexed first (Attrs), then looked up by type. */
function reference(m: NlMessage): Link {
  const a = Attrs.ofMessage(m, IFINFOMSG_LEN, 'RTM_NEWLINK');
  const at = m.offset + NLMSG_HDRLEN;
  const index = m.buf.readInt32LE(at + 4);
  const flags = m.buf.readUInt32LE(at + 8);
  const link: Link = {
    index,
    name: a.str(A.IFLA_IFNAME) ?? '',
    flags,
    up: (flags & IFF_UP) !== 0,
    operstate: OPERSTATES[a.u8(A.IFLA_OPERSTATE) ?? 0] ?? 'unknown',
    mtu: a.u32(A.IFLA_MTU) ?? 0,
    group: a.u32(A.IFLA_GROUP) ?? 0,
  };
  const mac = a.bytes(A.IFLA_ADDRESS);
  if (mac && mac.length === 6) link.address = formatMac(mac);
  const master = a.u32(A.IFLA_MASTER);
  if (master) link.master = master;
  const alias = a.str(A.IFLA_IFALIAS);
  if (alias) link.alias = alias;
  const parent = a.u32(A.IFLA_LINK);
  const nsid = a.i32(A.IFLA_LINK_NETNSID);
  if (parent && (parent !== index || nsid !== undefined)) link.parent = parent;
  if (nsid !== undefined) link.linkNetnsId = nsid;
  const txq = a.u32(A.IFLA_TXQLEN);
  if (txq !== undefined) link.txqlen = txq;
  const info = a.nested(A.IFLA_LINKINFO);
  const kind = info?.str(A.IFLA_INFO_KIND);
  if (kind) {
    link.kind = kind;
    const codec = Object.hasOwn(KINDS, kind) ? KINDS[kind] : undefined;
    if (codec && kind !== 'veth') (link as unknown as Record<string, unknown>)[kind] = codec.decode(info?.nested(A.IFLA_INFO_DATA));
  }
  return link;
}

/** A Link, or the class of what was thrown. */
function outcome(fn: () => Link): Link | string {
  try {
    return fn();
  } catch (err) {
    return err instanceof DecodeError ? 'DecodeError' : `other: ${String(err)}`;
  }
}

const linkMessages = (buf: Buffer): NlMessage[] => {
  try {
    return splitMessages(buf).filter((m) => m.type === RTM_NEWLINK);
  } catch {
    return [];
  }
};

describe('decodeLink: one pass against the attribute index', () => {
  const rtnl = seeds().filter((s) => s.family === 'rtnl');

  it('the same Link for every RTM_NEWLINK of the captured replies', () => {
    let n = 0;
    for (const s of rtnl) {
      for (const m of linkMessages(s.bytes)) {
        expect(decodeLink(m), s.name).toEqual(reference(m));
        n++;
      }
    }
    expect(n).toBeGreaterThan(5);
  });

  it('the same Link or a DecodeError from both, on 20000 mutated link messages', () => {
    const all = rtnl.map(corpus);
    const links = all.flatMap(singles).filter((c) => linkMessages(c.bytes).length === 1);
    expect(links.length).toBeGreaterThan(5);
    const rng = new Rng(20261201);
    let decoded = 0;
    for (let i = 0; i < 20000; i++) {
      const c = links[rng.below(links.length)];
      for (const m of linkMessages(mutate(c, all, rng))) {
        const want = outcome(() => reference(m));
        expect(
          outcome(() => decodeLink(m)),
          `case ${i}`,
        ).toEqual(want);
        if (typeof want !== 'string') decoded++;
      }
    }
    expect(decoded).toBeGreaterThan(1000);
  });

  it('strings taken again from the previous link only when every byte repeats (kinds, aliases, UTF-8)', () => {
    // A dump where the kind and the alias repeat, change in one byte, in
    // length, to non-ASCII text and back, and where one link has none.
    const kinds = ['tun', 'tun', 'tap', 'tun', 'tunx', 'bridge', 'brIdge', 'bridge', 'tün', 'tün', '', 'tun'];
    const aliases = [
      'eucanet:port',
      'eucanet:port',
      'eucanet:porT',
      'eucanet:port',
      'eucanet:por',
      'eucanet:portx',
      'é',
      'é',
      'e',
      undefined,
      'eucanet:port',
      'eucanet:port',
    ];
    const w = new NlWriter(4096);
    kinds.forEach((kind, i) => {
      w.beginMessage(RTM_NEWLINK, 0, i + 1);
      w.rawU8(0);
      w.rawU8(0);
      w.rawU16(0);
      w.rawI32(i + 1);
      w.rawU32(IFF_UP);
      w.rawU32(0);
      w.str(A.IFLA_IFNAME, `l${i}`);
      const alias = aliases[i];
      if (alias !== undefined) w.str(A.IFLA_IFALIAS, alias);
      const info = w.nestStart(A.IFLA_LINKINFO);
      w.str(A.IFLA_INFO_KIND, kind);
      w.nestEnd(info);
      w.endMessage();
    });
    const msgs = linkMessages(Buffer.from(w.bytes()));
    expect(msgs.length).toBe(kinds.length);
    const got = msgs.map((m) => decodeLink(m));
    expect(got).toEqual(msgs.map(reference));
    expect(got.map((l) => l.kind)).toEqual(kinds.map((k) => k || undefined));
    expect(got.map((l) => l.alias)).toEqual(aliases.map((a) => a || undefined));

    // "é" is two bytes in UTF-8 and one UTF-16 unit: a lone byte 0xe9 (not
    // UTF-8) is as long and equals its char code, but is another string.
    w.reset();
    for (const bytes of [Buffer.from('é\0'), Buffer.from([0xe9, 0])]) {
      w.beginMessage(RTM_NEWLINK, 0, 1);
      for (const v of [0, 0, 0, 0]) w.rawU8(v);
      w.rawI32(1);
      w.rawU32(0);
      w.rawU32(0);
      w.binary(A.IFLA_IFALIAS, bytes);
      w.endMessage();
    }
    const two = linkMessages(Buffer.from(w.bytes()));
    expect(two.map((m) => decodeLink(m).alias)).toEqual(['é', '\ufffd']);
    expect(two.map((m) => decodeLink(m))).toEqual(two.map(reference));
  });
});
