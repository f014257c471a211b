// Golden bytes: ctnetlink requests built by the library against the bytes
// conntrack 1.4.7 sent for the same command (test/fixtures/conntrack/
// requests.hex, captured by capture.sh with strace -e write=3,4). Sequence
// numbers and port ids are masked.
import { describe, expect, it } from 'vitest';
import { checkEntryRef, compileFilter, deleteRequest, dumpRequest, flushRequest, type CtEntryRef } from '../../src/conntrack/index.js';
import type { Request } from '../../src/netlink/socket.js';
import { NlWriter } from '../../src/netlink/writer.js';
import { requests } from '../fixtures/conntrack/fixtures.js';

const captured = requests();

function bytesOf(r: Request): string {
  const w = new NlWriter(256);
  r.encode(w, 0x1234);
  return mask(w.bytes().toString('hex'));
}

/** Zeroes nlmsg_seq and nlmsg_pid. */
function mask(hex: string): string {
  const b = Buffer.from(hex, 'hex');
  b.writeUInt32LE(0, 8);
  b.writeUInt32LE(0, 12);
  return b.toString('hex');
}

function theirs(cmd: string, i = 0): string {
  const msgs = captured.get(cmd);
  if (!msgs?.[i]) throw new Error(`no capture for ${cmd} #${i}`);
  return mask(msgs[i]);
}

/** Keeps only the top-level attributes of the given types (and fixes nlmsg_len). */
function keepAttrs(hex: string, types: number[]): string {
  const b = Buffer.from(hex, 'hex');
  const parts = [b.subarray(0, 20)];
  for (let off = 20; off + 4 <= b.length;) {
    const len = b.readUInt16LE(off);
    if (types.includes(b.readUInt16LE(off + 2) & 0x3fff)) parts.push(b.subarray(off, off + ((len + 3) & ~3)));
    off += (len + 3) & ~3;
  }
  const out = Buffer.concat(parts);
  out.writeUInt32LE(out.length, 0);
  return out.toString('hex');
}

describe('golden bytes against conntrack 1.4.7', () => {
  it('dump: everything (-L) and one family (-L -f ipv4)', () => {
    expect(bytesOf(dumpRequest(compileFilter()))).toBe(theirs('conntrack -L'));
    expect(bytesOf(dumpRequest(compileFilter({ family: 'ipv4' })))).toBe(theirs('conntrack -L -f ipv4'));
  });

  it('dump filtered by the kernel on mark (-L -m 7, -L -m 7/0xff) and status (-L -u ASSURED)', () => {
    expect(bytesOf(dumpRequest(compileFilter({ mark: 7 })))).toBe(theirs('conntrack -L -m 7'));
    expect(bytesOf(dumpRequest(compileFilter({ mark: { value: 7, mask: 0xff } })))).toBe(theirs('conntrack -L -m 7/0xff'));
    expect(bytesOf(dumpRequest(compileFilter({ status: ['ASSURED'] })))).toBe(theirs('conntrack -L -u ASSURED'));
  });

  it('flush: all (-F) and one family (-F -f ipv4)', () => {
    expect(bytesOf(flushRequest(compileFilter()))).toBe(theirs('conntrack -F'));
    expect(bytesOf(flushRequest(compileFilter({ family: 'ipv4' })))).toBe(theirs('conntrack -F -f ipv4'));
  });

  it('delete one entry: the original tuple and zone as conntrack -D sends them (it also sends the reply tuple, status, timeout, mark)', () => {
    const cmd = 'conntrack -D -s 10.0.0.1 -p udp';
    // conntrack -D dumps (-f ipv4), then deletes each match on a second socket.
    expect(theirs(cmd, 0)).toBe(theirs('conntrack -L -f ipv4'));
    const e: CtEntryRef = { protocol: 'udp', orig: { src: '10.0.0.1', dst: '10.0.0.2', sport: 1000, dport: 2000 }, zone: 3 };
    const { proto, family } = checkEntryRef(e);
    const CTA_TUPLE_ORIG = 1;
    const CTA_ZONE = 18;
    expect(bytesOf(deleteRequest(e, proto, family))).toBe(keepAttrs(theirs(cmd, 1), [CTA_TUPLE_ORIG, CTA_ZONE]));
  });

  it('delete with an id appends CTA_ID (be32) after the tuple', () => {
    const e: CtEntryRef = { protocol: 'udp', orig: { src: '10.0.0.1', dst: '10.0.0.2', sport: 1000, dport: 2000 }, id: 0x01020304 };
    const { proto, family } = checkEntryRef(e);
    const hex = bytesOf(deleteRequest(e, proto, family));
    expect(hex.endsWith('08000c0001020304')).toBe(true);
    expect(Buffer.from(hex, 'hex').readUInt32LE(0)).toBe(hex.length / 2);
  });
});
