// Decoding RTM_NEWADDR messages (dumps, events) into Address objects.
//
// One pass over the attributes, each one read as it goes by (the first of a
// type counts, as with the attribute index Attrs), with the same checks:
// every attribute's length fits the message, and an attribute read is long
// enough (an address exactly as long as the family's). A re-apply decodes
// one message per address (thousands of /32s on a cluster controller).
import { DecodeError } from '../errors.js';
import { NLA_HDRLEN, NLA_TYPE_MASK, NLMSG_HDRLEN } from '../netlink/constants.js';
import { attrsStart, strAt, type NlMessage } from '../netlink/reader.js';
import { bytesToIp } from '../util/ip.js';
import { scopeName, type Address } from './address.js';
import { IFA_ADDRESS, IFA_BROADCAST, IFA_FLAGS, IFA_LABEL, IFA_LOCAL, IFA_PROTO } from './attrs.js';
import { AF_INET, AF_INET6, IFADDRMSG_LEN } from './constants.js';

const WHAT = 'RTM_NEWADDR';

/** The label read last: an interface's addresses all carry the same one. */
let recentLabel = '';

/** The string at b[p, p + n) up to a NUL, the last label again when the bytes are the same (ASCII). */
function labelAt(b: Buffer, p: number, n: number): string {
  let len = 0;
  while (len < n && b[p + len] !== 0) len++;
  const s = recentLabel;
  if (s.length === len) {
    let i = 0;
    while (i < len && b[p + i] < 0x80 && b[p + i] === s.charCodeAt(i)) i++;
    if (i === len) return s;
  }
  return (recentLabel = strAt(b, p, len));
}

/**
 * Payload offset (-1: absent) and length of the first attribute of each type
 * read, by type: reused from message to message (decoding is synchronous).
 */
const READ = [IFA_ADDRESS, IFA_LOCAL, IFA_LABEL, IFA_BROADCAST, IFA_FLAGS, IFA_PROTO];
const found = new Int32Array(Math.max(...READ) + 1);
const foundLen = new Int32Array(found.length);
const wanted = new Uint8Array(found.length);
for (const t of READ) wanted[t] = 1;

/** Decodes an RTM_NEWADDR message (AF_INET or AF_INET6). */
export function decodeAddress(m: NlMessage): Address {
  const start = attrsStart(m, IFADDRMSG_LEN, WHAT);
  const b = m.buf;
  const end = m.offset + m.length;
  found.fill(-1);
  for (let off = start; off < end;) {
    const left = end - off;
    if (left < NLA_HDRLEN) throw new DecodeError(WHAT, off, `${left} trailing bytes, too few for an attribute header`);
    const len = b[off] | (b[off + 1] << 8);
    const type = (b[off + 2] | (b[off + 3] << 8)) & NLA_TYPE_MASK;
    if (len < NLA_HDRLEN || len > left) {
      throw new DecodeError(WHAT, off, `attribute type ${type} has length ${len} (at least ${NLA_HDRLEN}; ${left} bytes left)`);
    }
    if (type < found.length && wanted[type] && found[type] < 0) {
      found[type] = off + NLA_HDRLEN;
      foundLen[type] = len - NLA_HDRLEN;
    }
    off += (len + 3) & ~3;
  }
  return build(m);
}

/** The Address from the header and the attributes found, with the checks Attrs' getters make. */
function build(m: NlMessage): Address {
  const b = m.buf;
  const at = m.offset + NLMSG_HDRLEN;
  const fam = b[at];
  if (fam !== AF_INET && fam !== AF_INET6) throw new DecodeError(WHAT, at, `family ${fam} is not AF_INET or AF_INET6`);
  const family = fam === AF_INET ? 4 : 6;
  const len = family === 4 ? 4 : 16;
  const p = found[IFA_LOCAL] >= 0 ? exact(IFA_LOCAL, len) : found[IFA_ADDRESS] >= 0 ? exact(IFA_ADDRESS, len) : -1;
  if (p < 0) throw new DecodeError(WHAT, m.offset, 'neither IFA_LOCAL nor IFA_ADDRESS');
  const prefix = b[at + 1];
  if (prefix > len * 8) throw new DecodeError(WHAT, at + 1, `prefix length ${prefix} for an IPv${family} address`);
  const flags = atLeast(IFA_FLAGS, 4);
  const out: Address = {
    family,
    prefix,
    scope: scopeName(b[at + 3]),
    index: b.readUInt32LE(at + 4),
    address: bytesToIp(b.subarray(p, p + len)),
    flags: flags >= 0 ? b.readUInt32LE(flags) : b[at + 2],
  };
  if (found[IFA_BROADCAST] >= 0) {
    const q = exact(IFA_BROADCAST, len);
    out.broadcast = bytesToIp(b.subarray(q, q + len));
  }
  if (found[IFA_LABEL] >= 0) {
    const label = labelAt(b, found[IFA_LABEL], foundLen[IFA_LABEL]);
    if (label) out.label = label;
  }
  const proto = atLeast(IFA_PROTO, 1);
  if (proto >= 0 && b[proto]) out.proto = b[proto];
  return out;
}

/** The payload offset of the attribute `type` found, which must be exactly `want` bytes long. */
function exact(type: number, want: number): number {
  const p = found[type];
  if (foundLen[type] !== want) throw new DecodeError(WHAT, p - NLA_HDRLEN, `attribute type ${type} has ${foundLen[type]} bytes, expected ${want}`);
  return p;
}

/** The payload offset of the attribute `type` if found (-1 if not); DecodeError if shorter than `need`. */
function atLeast(type: number, need: number): number {
  const p = found[type];
  if (p >= 0 && foundLen[type] < need) throw new DecodeError(WHAT, p - NLA_HDRLEN, `attribute type ${type} has ${foundLen[type]} bytes, needs ${need}`);
  return p;
}
