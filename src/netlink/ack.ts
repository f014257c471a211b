// Acks and errors: an NLMSG_ERROR decoded (errno, the request's seq, the
// extended ACK's message, attribute offset and missing attribute), and the
// NetlinkError of a refused request, naming the op and the attribute.
import { NLMSG_HDRLEN, NLM_F_ACK_TLVS, NLM_F_CAPPED, NLMSGERR_ATTR_MISS_TYPE, NLMSGERR_ATTR_MSG, NLMSGERR_ATTR_OFFS } from './constants.js';
import { DecodeError, NetlinkError } from '../errors.js';
import { Attrs, type NlMessage } from './reader.js';
import type { Request } from './socket.js';
import { NlWriter, type TraceEntry } from './writer.js';

/** The fields of an NLMSG_ERROR, as decodeError returns them. */
export interface DecodedError {
  errno: number;
  seq: number;
  msg?: string;
  offset?: number;
  missType?: number;
}

/**
 * struct nlmsgerr (/usr/include/linux/netlink.h): int error, then the request's
 * nlmsghdr, then (NLM_F_ACK_TLVS) the rest of the request unless NLM_F_CAPPED,
 * padded to 4, then the NLMSGERR_ATTR_* TLVs.
 */
const NLMSGERR_LEN = 4 + NLMSG_HDRLEN;

/** Decodes an NLMSG_ERROR: errno (0 for an ack), the request's seq, and ext-ACK fields. */
export function decodeError(m: NlMessage): DecodedError {
  const b = m.buf;
  const end = m.offset + m.length;
  if (m.length < NLMSG_HDRLEN + NLMSGERR_LEN || end > b.length) {
    throw new DecodeError('NLMSG_ERROR', m.offset, `message length ${m.length} (struct nlmsgerr needs ${NLMSG_HDRLEN + NLMSGERR_LEN})`);
  }
  const at = m.offset + NLMSG_HDRLEN;
  const error = b.readInt32LE(at);
  if (error > 0 || error < -4095) throw new DecodeError('NLMSG_ERROR', at, `error ${error} is not 0 or a negative errno`);
  const out: DecodedError = { errno: -error | 0, seq: b.readUInt32LE(at + 4 + 8) };
  if (m.flags & NLM_F_ACK_TLVS) {
    const origLen = m.flags & NLM_F_CAPPED ? NLMSG_HDRLEN : b.readUInt32LE(at + 4);
    const tlvStart = at + 4 + ((origLen + 3) & ~3);
    if (origLen < NLMSG_HDRLEN || origLen > end - at - 4) {
      throw new DecodeError('NLMSG_ERROR', at + 4, `echoed request length ${origLen} (${end - at - 4} bytes left)`);
    }
    // The request's padding may be cut off when nothing follows it.
    const a = new Attrs(b, Math.min(tlvStart, end), end, 'NLMSG_ERROR attributes');
    const msg = a.str(NLMSGERR_ATTR_MSG);
    if (msg) out.msg = msg;
    const off = a.u32(NLMSGERR_ATTR_OFFS);
    if (off !== undefined) out.offset = off;
    const miss = a.u32(NLMSGERR_ATTR_MISS_TYPE);
    if (miss !== undefined) out.missType = miss;
  }
  return out;
}

/** Re-encodes `req` with tracing on and names the attribute at `offset`. */
function attributeAt(req: Request, offset: number): string | undefined {
  const w = new NlWriter(1024);
  w.trace = [];
  req.encode(w, 0);
  let best: TraceEntry | undefined;
  for (const t of w.trace) if (t.offset === offset) best = t;
  if (!best) return undefined;
  return req.attrName ? req.attrName(best.path) : best.path.join('/');
}

/** Builds the NetlinkError for a failed request from its NLMSG_ERROR. */
export function requestError(req: Request, e: DecodedError, opIndex?: number): NetlinkError {
  const details: ConstructorParameters<typeof NetlinkError>[1] = { op: req.describe() };
  if (opIndex !== undefined) details.opIndex = opIndex;
  if (e.msg) details.extack = e.msg;
  if (e.offset !== undefined) {
    details.attributeOffset = e.offset;
    const name = attributeAt(req, e.offset);
    if (name) details.attribute = name;
  }
  if (e.missType !== undefined) {
    details.missingAttribute = req.attrName ? req.attrName([e.missType]) : String(e.missType);
  }
  return new NetlinkError(e.errno, details);
}
