// Malformed kernel replies: each decoder throws one typed error, DecodeError,
// naming what it was decoding and the byte offset, instead of a RangeError, a
// TypeError, a plain Error or a wrong value. One test per bug found by the
// fuzz run of issue 12 (nftables: decode-malformed-nft.test.ts; the fuzz test
// itself: decode-fuzz.test.ts). Names given as input are checked here too.
import { describe, expect, it } from 'vitest';
import { NLMSG_ERROR, NLMSGERR_ATTR_MSG } from '../../src/netlink/constants.js';
import { ValidationError } from '../../src/errors.js';
import { Attrs, splitMessages, type NlMessage } from '../../src/netlink/reader.js';
import { decodeError } from '../../src/netlink/socket.js';
import type { NlWriter } from '../../src/netlink/writer.js';
import { dataType } from '../../src/nft/datatypes.js';
import { decodeAddress, isInetAddress, validateAddress } from '../../src/rtnl/address.js';
import { IFA_LABEL, IFLA_IFNAME, IFLA_INFO_DATA, IFLA_INFO_KIND, IFLA_LINKINFO } from '../../src/rtnl/attrs.js';
import { RTM_NEWADDR, RTM_NEWLINK } from '../../src/rtnl/constants.js';
import { decodeLink, validateLinkSpec, type LinkSpec } from '../../src/rtnl/link.js';
import { validateRoute } from '../../src/rtnl/route.js';
import { errorReplies, seeds } from '../fuzz/seeds.js';
import { decodeErrorOf, message } from '../helpers/decode.js';

function ifinfomsg(w: NlWriter, index: number): void {
  w.rawU8(0);
  w.rawU8(0);
  w.rawU16(1);
  w.rawI32(index);
  w.rawU32(0);
  w.rawU32(0);
}

function linkOfKind(kind: string): NlMessage {
  return message((w) => {
    w.beginMessage(RTM_NEWLINK, 0, 1);
    ifinfomsg(w, 7);
    w.str(IFLA_IFNAME, 'x0');
    const info = w.nestStart(IFLA_LINKINFO);
    w.str(IFLA_INFO_KIND, kind);
    const data = w.nestStart(IFLA_INFO_DATA);
    w.u32(1, 1);
    w.nestEnd(data);
    w.nestEnd(info);
    w.endMessage();
  });
}

const firstLinkMessage = () => splitMessages(seeds().find((s) => s.name === 'rtnl/dump-link')!.bytes)[0];

describe('rtnetlink messages shorter than their family header', () => {
  it('a 16-byte RTM_NEWLINK followed by another message is refused, not decoded from the next message', () => {
    const next = firstLinkMessage();
    const nextBytes = next.buf.subarray(next.offset, next.offset + next.length);
    const head = Buffer.alloc(16);
    head.writeUInt32LE(16, 0);
    head.writeUInt16LE(RTM_NEWLINK, 4);
    const msgs = splitMessages(Buffer.concat([head, nextBytes]));
    expect(msgs.map((m) => m.length)).toEqual([16, next.length]);
    const err = decodeErrorOf(() => decodeLink(msgs[0]));
    expect(err.what).toBe('RTM_NEWLINK');
    expect(err.offset).toBe(0);
    expect(err.message).toMatch(/message length 16/);
    // The message after it still decodes.
    expect(decodeLink(msgs[1]).name).toBe('lo');
  });

  it('an RTM_NEWADDR with a header but neither IFA_LOCAL nor IFA_ADDRESS is refused', () => {
    const m = message((w) => {
      w.beginMessage(RTM_NEWADDR, 0, 1);
      w.rawU8(2);
      w.rawU8(24);
      w.rawU8(0);
      w.rawU8(0);
      w.rawU32(3);
      w.str(IFA_LABEL, 'br0');
      w.endMessage();
    });
    expect(decodeErrorOf(() => decodeAddress(m)).message).toMatch(/neither IFA_LOCAL nor IFA_ADDRESS/);
  });
});

describe('addresses of other families in an AF_UNSPEC dump', () => {
  it('an AF_MCTP address (1-byte IFA_LOCAL) is left out of address lists, and refused by decodeAddress', () => {
    const mctp = message((w) => {
      w.beginMessage(RTM_NEWADDR, 0, 1);
      w.rawU8(45 /* AF_MCTP */);
      w.rawU8(0);
      w.rawU8(0);
      w.rawU8(0);
      w.rawU32(1);
      w.binary(2 /* IFA_LOCAL */, Buffer.from([8]));
      w.endMessage();
    });
    expect(isInetAddress(mctp)).toBe(false);
    expect(decodeErrorOf(() => decodeAddress(mctp)).message).toMatch(/family 45 is not AF_INET or AF_INET6/);
    const real = splitMessages(seeds().find((s) => s.name === 'rtnl/dump-addr')!.bytes).filter((m) => m.type === RTM_NEWADDR);
    expect(real.length).toBeGreaterThan(0);
    expect(real.every(isInetAddress)).toBe(true);
  });
});

describe('IFLA_INFO_KIND is looked up as an own property', () => {
  for (const kind of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
    it(`kind "${kind}" decodes as an unknown kind`, () => {
      const link = decodeLink(linkOfKind(kind));
      expect(link.kind).toBe(kind);
      expect(link.name).toBe('x0');
      expect(Object.keys(link)).not.toContain(kind);
    });
    it(`kind "${kind}" in a link spec is bad input`, () => {
      expect(() => validateLinkSpec({ name: 'x0', kind } as unknown as LinkSpec)).toThrow(ValidationError);
    });
  }
});

describe('netlink framing', () => {
  const reply = seeds().find((s) => s.name === 'rtnl/dump-addr')!.bytes;

  it('a message length past the end of the buffer', () => {
    const b = Buffer.from(reply);
    b.writeUInt32LE(b.length + 4, 0);
    expect(decodeErrorOf(() => splitMessages(b))).toMatchObject({ what: 'netlink message', offset: 0 });
  });

  it('bytes after the last message too few for a header', () => {
    const err = decodeErrorOf(() => splitMessages(Buffer.concat([reply, Buffer.alloc(7)])));
    expect(err.offset).toBe(reply.length);
    expect(err.message).toMatch(/7 trailing bytes/);
  });

  it('an attribute shorter than its header, one running past its area, a u32 of two bytes', () => {
    const b = Buffer.from([4, 0, 1, 0, 3, 0, 2, 0]);
    expect(decodeErrorOf(() => new Attrs(b, 0, 8, 'test')).offset).toBe(4);
    expect(decodeErrorOf(() => new Attrs(Buffer.from([9, 0, 1, 0, 0, 0, 0, 0]), 0, 8)).message).toMatch(/length 9/);
    const short = new Attrs(Buffer.from([6, 0, 1, 0, 1, 2, 0, 0]), 0, 8, 'test');
    expect(decodeErrorOf(() => short.u32(1)).message).toMatch(/has 2 bytes, needs 4/);
  });
});

describe('NLMSG_ERROR', () => {
  const replies = errorReplies();
  const errorMessage = (name: string) => splitMessages(replies.get(name)!).find((m) => m.type === NLMSG_ERROR)!;

  it('decodes captured acks and errors, with the extended ACK message and offset', () => {
    expect(decodeError(errorMessage('ack')).errno).toBe(0);
    expect(decodeError(errorMessage('link-exists')).errno).toBe(17);
    expect(decodeError(errorMessage('link-kind'))).toMatchObject({ errno: 95, msg: 'Unknown device type' });
    expect(decodeError(errorMessage('link-name-policy'))).toMatchObject({ errno: 34, msg: 'Attribute failed policy validation', offset: 32 });
    expect(decodeError(errorMessage('nft-chain-notable'))).toMatchObject({ errno: 2, offset: 20 });
  });

  it('one too short for struct nlmsgerr is refused', () => {
    const b = Buffer.from(replies.get('ack')!.subarray(0, 24));
    b.writeUInt32LE(24, 0);
    expect(decodeErrorOf(() => decodeError(splitMessages(b)[0])).what).toBe('NLMSG_ERROR');
  });

  it('an extended ACK whose echoed request length runs past the message is refused', () => {
    const b = Buffer.from(replies.get('link-kind')!);
    b.writeUInt16LE(b.readUInt16LE(6) & ~0x100, 6); // clear NLM_F_CAPPED: the echoed length is then read
    b.writeUInt32LE(4000, 20);
    expect(decodeErrorOf(() => decodeError(splitMessages(b)[0])).message).toMatch(/echoed request length 4000/);
  });

  it('an extended ACK message attribute that runs past the message is refused', () => {
    const b = Buffer.from(replies.get('link-kind')!);
    const at = b.indexOf(Buffer.from([0x18, 0, NLMSGERR_ATTR_MSG, 0]));
    b.writeUInt16LE(0x40, at);
    expect(decodeErrorOf(() => decodeError(splitMessages(b)[0])).what).toBe('NLMSG_ERROR attributes');
  });
});

describe('names given as input are looked up as own properties too', () => {
  const checks: Array<[string, (name: string) => unknown]> = [
    ['address scope', (n) => validateAddress({ dev: 'br0', address: '10.0.0.1/24', scope: n as never })],
    ['route scope', (n) => validateRoute({ dst: '10.0.0.0/24', dev: 'br0', scope: n as never })],
    ['macvlan mode', (n) => validateLinkSpec({ name: 'mv0', kind: 'macvlan', parent: 'br0', mode: n as never })],
    ['nft symbol (inet_proto)', (n) => dataType('inet_proto').parse(n, 'proto')],
    ['nft bit name (ct_state)', (n) => dataType('ct_state').parse(`established,${n}`, 'ct state')],
  ];
  for (const [what, check] of checks) {
    it(`${what} "constructor", "toString", "__proto__": ValidationError`, () => {
      for (const name of ['constructor', 'toString', '__proto__']) expect(() => check(name), name).toThrow(ValidationError);
    });
  }
});
