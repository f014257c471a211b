// Replies matched to the requests of a pipelined exchange by sequence number.
// The buffer is walked once, its header fields read as bytes: an ack of a
// request the kernel applied (error 0, no extended-ACK attributes: most of
// a commit's thousands of replies) becomes only a mark, with no message
// object and no decode; everything else is split and decoded as before
// (splitMessages, decodeError), with the same errors for a malformed reply.
import { DecodeError } from '../errors.js';
import { decodeError, requestError } from './ack.js';
import { NLMSG_ERROR, NLMSG_HDRLEN, NLM_F_ACK_TLVS } from './constants.js';
import type { NlMessage } from './reader.js';
import type { Reply, Request } from './socket.js';

/** struct nlmsgerr: int error, then the request's nlmsghdr (CAP_ACK: the header only). */
const NLMSGERR_LEN = 4 + NLMSG_HDRLEN;

const u32 = (b: Buffer, p: number) => (b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24)) >>> 0;
const u16 = (b: Buffer, p: number) => b[p] | (b[p + 1] << 8);

/**
 * The messages of every reply that has none: one frozen array shared by them
 * (a bring-up's thousands of plain acks), replaced by a reply's own array at
 * its first data message. Frozen, so that a caller pushing into it fails
 * instead of touching other replies.
 */
const NO_MESSAGES = Object.freeze([]) as unknown as NlMessage[];

/**
 * One reply per request (`first` is the first request's sequence number), and
 * which of them were acked (an NLMSG_ERROR, success or not). Data messages
 * (a GET's answer) go to their request's `messages`; a refusal becomes its
 * NetlinkError, numbered from `opIndexBase` when given.
 */
export function matchReplies(requests: readonly Request[], first: number, reply: Buffer, opIndexBase?: number): { out: Reply[]; acked: Uint8Array } {
  const n = requests.length;
  const out: Reply[] = new Array<Reply>(n);
  for (let i = 0; i < n; i++) out[i] = { messages: NO_MESSAGES };
  const acked = new Uint8Array(n);
  const end = reply.length;
  let off = 0;
  while (off < end) {
    const left = end - off;
    if (left < NLMSG_HDRLEN) {
      throw new DecodeError('netlink message', off, `${left} trailing bytes, too few for a message header (${NLMSG_HDRLEN})`);
    }
    const length = u32(reply, off);
    if (length < NLMSG_HDRLEN || length > left) {
      throw new DecodeError('netlink message', off, `length ${length} (a message is at least ${NLMSG_HDRLEN} bytes; ${left} left)`);
    }
    const type = u16(reply, off + 4);
    const flags = u16(reply, off + 6);
    // The plain ack of an applied request: error 0, the request's seq in the echoed header.
    if (type === NLMSG_ERROR && length >= NLMSG_HDRLEN + NLMSGERR_LEN && !(flags & NLM_F_ACK_TLVS) && u32(reply, off + NLMSG_HDRLEN) === 0) {
      const i = (u32(reply, off + NLMSG_HDRLEN + 4 + 8) - first) >>> 0;
      if (i < n) acked[i] = 1;
    } else {
      const m: NlMessage = { length, type, flags, seq: u32(reply, off + 8), port: u32(reply, off + 12), buf: reply, offset: off };
      if (type === NLMSG_ERROR) {
        const e = decodeError(m);
        const i = (e.seq - first) >>> 0;
        if (i < n) {
          acked[i] = 1;
          if (e.errno !== 0) out[i].error = requestError(requests[i], e, opIndexBase !== undefined ? opIndexBase + i : undefined);
        }
      } else {
        const i = (m.seq - first) >>> 0;
        if (i < n) {
          const r = out[i];
          if (r.messages === NO_MESSAGES) r.messages = [m];
          else r.messages.push(m);
        }
      }
    }
    off += (length + 3) & ~3;
  }
  return { out, acked };
}
