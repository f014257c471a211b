// Decoding a captured conntrack dump (test/fixtures/conntrack/dump.hex: real
// UDP with DNAT + SNAT, TCP ESTABLISHED, ICMP echo, a zoned entry), checked
// against `conntrack -L -o extended,id` of the same table (dump.txt); then
// malformed input (DecodeError only) and filters (ValidationError naming the
// field and value, before anything is sent).
import { describe, expect, it } from 'vitest';
import { compileFilter, decodeEntry, statusNames, type CtEntry } from '../../src/conntrack/index.js';
import { DecodeError, ValidationError } from '../../src/errors.js';
import { NLMSG_DONE } from '../../src/netlink/constants.js';
import { splitMessages } from '../../src/netlink/reader.js';
import { decodeErrorOf } from '../helpers/decode.js';
import { dumpBuffers, dumpText, parseExtended } from '../fixtures/conntrack/fixtures.js';

function entries(): CtEntry[] {
  return dumpBuffers()
    .flatMap((b) => splitMessages(b))
    .filter((m) => m.type !== NLMSG_DONE)
    .map(decodeEntry);
}

const ports = (t: { sport?: number; dport?: number; icmpType?: number; icmpCode?: number; icmpId?: number }) =>
  t.icmpType !== undefined ? { type: String(t.icmpType), code: String(t.icmpCode), id: String(t.icmpId) } : { sport: String(t.sport), dport: String(t.dport) };

describe('conntrack dump decode', () => {
  it('every entry equals conntrack -L -o extended,id of the same table: tuples, ports, ICMP, state, flags, mark, zone, id', () => {
    const ours = entries().sort((a, b) => (a.id ?? 0) - (b.id ?? 0));
    const theirs = parseExtended(dumpText()).sort((a, b) => a.id - b.id);
    expect(ours.length).toBe(4);
    expect(ours.map((e) => e.id)).toEqual(theirs.map((e) => e.id));
    ours.forEach((e, i) => {
      const o = theirs[i];
      expect(e.protocol, `#${e.id}`).toBe(o.protocol);
      expect({ src: e.orig.src, dst: e.orig.dst, ...ports(e.orig) }).toEqual(o.orig);
      expect({ src: e.reply.src, dst: e.reply.dst, ...ports(e.reply) }).toEqual(o.reply);
      expect(e.tcpState).toBe(o.state);
      expect(e.statusNames.includes('ASSURED')).toBe(o.flags.includes('ASSURED'));
      expect(e.statusNames.includes('SEEN_REPLY')).toBe(!o.flags.includes('UNREPLIED'));
      expect(e.mark).toBe(o.mark);
      expect(e.zone).toBe(o.zone);
      expect(Math.abs((e.timeout ?? -99) - o.timeout)).toBeLessThanOrEqual(2);
    });
  });

  it('NAT shows in the tuples and status: the UDP flow was DNATed (10.1.1.9 -> .1) and SNATed (to .5)', () => {
    const udp = entries().find((e) => e.protocol === 'udp' && e.orig.dport === 7001)!;
    expect(udp.reply.src).toBe('10.1.1.1');
    expect(udp.reply.dst).toBe('10.1.1.5');
    expect(udp.statusNames).toEqual(expect.arrayContaining(['CONFIRMED', 'SRC_NAT', 'DST_NAT', 'SRC_NAT_DONE', 'DST_NAT_DONE']));
    expect(udp.family).toBe('ipv4');
  });

  it('status bits are named in bit order', () => {
    expect(statusNames(0x1ae)).toEqual(['SEEN_REPLY', 'ASSURED', 'CONFIRMED', 'DST_NAT', 'SRC_NAT_DONE', 'DST_NAT_DONE']);
  });
});

describe('malformed entries: DecodeError, naming what', () => {
  const first = () => splitMessages(dumpBuffers()[0])[0];

  it('a message cut inside its attributes', () => {
    const m = first();
    const b = Buffer.from(m.buf.subarray(m.offset, m.offset + 40));
    b.writeUInt32LE(40, 0);
    const err = decodeErrorOf(() => decodeEntry(splitMessages(b)[0]));
    expect(err.what).toBe('IPCTNL_MSG_CT_NEW');
  });

  it('an unknown address family, IPv4 addresses in an AF_INET6 entry, a message of another type', () => {
    const m = first();
    const copy = () => Buffer.from(m.buf.subarray(m.offset, m.offset + m.length));
    const fam = copy();
    fam[16] = 7;
    expect(decodeErrorOf(() => decodeEntry(splitMessages(fam)[0])).reason).toMatch(/nfgen_family 7/);
    const v6 = copy();
    v6[16] = 10; // AF_INET6, but the tuple holds CTA_IP_V4_* attributes
    expect(decodeErrorOf(() => decodeEntry(splitMessages(v6)[0])).reason).toMatch(/without its IPv6 source/);
    const other = copy();
    other.writeUInt16LE((1 << 8) | 2, 4);
    expect(() => decodeEntry(splitMessages(other)[0])).toThrow(DecodeError);
  });
});

describe('filters are checked before anything is sent', () => {
  const bad = (f: unknown, field: string) => {
    let err: unknown;
    try {
      compileFilter(f as never);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).field).toBe(field);
    return (err as ValidationError).message;
  };

  it('names the field and the value', () => {
    expect(bad({ family: 'ipx' }, 'family')).toContain('"ipx"');
    expect(bad({ mark: -1 }, 'mark.value')).toContain('-1');
    expect(bad({ mark: { value: 0x10, mask: 0x0f } }, 'mark')).toMatch(/outside the mask/);
    expect(bad({ zone: 70000 }, 'zone')).toContain('70000');
    expect(bad({ status: ['ASURED'] }, 'status[0]')).toContain('ASURED');
    expect(bad({ protocol: 'sctpx' }, 'protocol')).toContain('sctpx');
    expect(bad({ orig: { src: '10.0.0.300' } }, 'orig.src')).toContain('10.0.0.300');
    expect(bad({ reply: { dport: 65536 } }, 'reply.dport')).toContain('65536');
    expect(bad({ origin: {} }, 'origin')).toMatch(/unknown filter field/);
  });

  it('splits kernel-side and user-side parts; matches CIDRs, ports, protocol, mark under mask', () => {
    const e = entries().find((x) => x.protocol === 'udp' && x.orig.dport === 7001)!;
    expect(compileFilter({ mark: 7, zone: 3, status: ['ASSURED'], family: 'ipv4' }).kernelOnly).toBe(true);
    expect(compileFilter({ protocol: 'udp' }).kernelOnly).toBe(false);
    expect(compileFilter({ protocol: 'udp', orig: { dst: '10.1.1.0/24', dport: 7001 }, reply: { dst: '10.1.1.5' } }).matches(e)).toBe(true);
    expect(compileFilter({ orig: { dst: '10.1.2.0/24' } }).matches(e)).toBe(false);
    expect(compileFilter({ protocol: 17 }).matches(e)).toBe(true);
    expect(compileFilter({ protocol: 'tcp' }).matches(e)).toBe(false);
    expect(compileFilter({ mark: { value: 0, mask: 1 } }).matches(e)).toBe(true);
    expect(compileFilter({ family: 'ipv6' }).matches(e)).toBe(false);
  });
});
