// decodeAddress (src/rtnl/address-decode.ts) reads an address's attributes in
// one pass, into a table reused from message to message. Here it is held
// against the general path, the attribute index (Attrs) it replaced, on the
// captured rtnetlink replies of the fuzz seeds and on thousands of mutations
// of their RTM_NEWADDR messages: the same Address, or a DecodeError from both.
import { describe, expect, it } from 'vitest';
import { DecodeError } from '../../src/errors.js';
import { NLMSG_HDRLEN } from '../../src/netlink/constants.js';
import { Attrs, splitMessages, type NlMessage } from '../../src/netlink/reader.js';
import { decodeAddress, scopeName, type Address } from '../../src/rtnl/address.js';
import { IFA_ADDRESS, IFA_BROADCAST, IFA_FLAGS, IFA_LABEL, IFA_LOCAL, IFA_PROTO } from '../../src/rtnl/attrs.js';
import { AF_INET, AF_INET6, IFADDRMSG_LEN, RTM_NEWADDR } from '../../src/rtnl/constants.js';
import { bytesToIp } from '../../src/util/ip.js';
import { corpus, mutate, singles } from '../fuzz/mutate.js';
import { Rng } from '../fuzz/prng.js';
import { seeds } from '../fuzz/seeds.js';

/** The general path: every attribute indexed first (Attrs), then looked up by type. */
function reference(m: NlMessage): Address {
  const a = Attrs.ofMessage(m, IFADDRMSG_LEN, 'RTM_NEWADDR');
  const b = m.buf;
  const at = m.offset + NLMSG_HDRLEN;
  const fam = b[at];
  if (fam !== AF_INET && fam !== AF_INET6) throw new DecodeError('RTM_NEWADDR', at, 'family');
  const family = fam === AF_INET ? 4 : 6;
  const len = family === 4 ? 4 : 16;
  const local = a.exact(IFA_LOCAL, len) ?? a.exact(IFA_ADDRESS, len);
  if (!local) throw new DecodeError('RTM_NEWADDR', m.offset, 'neither');
  const prefix = b[at + 1];
  if (prefix > len * 8) throw new DecodeError('RTM_NEWADDR', at + 1, 'prefix');
  const out: Address = {
    family,
    prefix,
    scope: scopeName(b[at + 3]),
    index: b.readUInt32LE(at + 4),
    address: bytesToIp(local),
    flags: a.u32(IFA_FLAGS) ?? b[at + 2],
  };
  const brd = a.exact(IFA_BROADCAST, len);
  if (brd) out.broadcast = bytesToIp(brd);
  const label = a.str(IFA_LABEL);
  if (label) out.label = label;
  const proto = a.u8(IFA_PROTO);
  if (proto) out.proto = proto;
  return out;
}

/** An Address, or the class of what was thrown. */
function outcome(fn: () => Address): Address | string {
  try {
    return fn();
  } catch (err) {
    return err instanceof DecodeError ? 'DecodeError' : `other: ${String(err)}`;
  }
}

const addressMessages = (buf: Buffer): NlMessage[] => {
  try {
    return splitMessages(buf).filter((m) => m.type === RTM_NEWADDR);
  } catch {
    return [];
  }
};

describe('decodeAddress: one pass against the attribute index', () => {
  const rtnl = seeds().filter((s) => s.family === 'rtnl');

  it('the same Address for every RTM_NEWADDR of the captured replies', () => {
    let n = 0;
    for (const s of rtnl) {
      for (const m of addressMessages(s.bytes)) {
        expect(
          outcome(() => decodeAddress(m)),
          s.name,
        ).toEqual(outcome(() => reference(m)));
        n++;
      }
    }
    expect(n).toBeGreaterThan(5);
  });

  it('the same Address or a DecodeError from both, on 20000 mutated address messages', () => {
    const all = rtnl.map(corpus);
    const addrs = all.flatMap(singles).filter((c) => addressMessages(c.bytes).length === 1);
    expect(addrs.length).toBeGreaterThan(5);
    const rng = new Rng(20261202);
    let decoded = 0;
    let refused = 0;
    for (let i = 0; i < 20000; i++) {
      const c = addrs[rng.below(addrs.length)];
      for (const m of addressMessages(mutate(c, all, rng))) {
        const want = outcome(() => reference(m));
        expect(
          outcome(() => decodeAddress(m)),
          `case ${i}`,
        ).toEqual(want);
        if (typeof want === 'string') refused++;
        else decoded++;
      }
    }
    expect(decoded).toBeGreaterThan(1000);
    expect(refused).toBeGreaterThan(100);
  });
});
