// Userdata: opaque to the kernel, written by nft so that `nft list` can show
// comments and print set keys in the right byte order. Layout (libnftnl's
// "udata" TLVs), a run of:
//
//   u8 type | u8 len | len bytes of value      (no padding, no alignment)
//
// Rule userdata (NFTA_RULE_USERDATA):
//   NFTNL_UDATA_RULE_COMMENT      0  NUL-terminated string
// Set userdata (NFTA_SET_USERDATA), as nft 1.0.6 writes it (taken with strace):
//   NFTNL_UDATA_SET_KEYBYTEORDER  0  u32, host order: 0 invalid, 1 host, 2 big endian
//   NFTNL_UDATA_SET_DATABYTEORDER 1  u32 (maps only)
//   NFTNL_UDATA_SET_KEY_TYPEOF    3  nested TLVs (nft writes one for concatenations)
//   NFTNL_UDATA_SET_DATA_INTERVAL 6  u32 0/1 (maps only)
//   NFTNL_UDATA_SET_COMMENT       7  NUL-terminated string
// Set element userdata (NFTA_SET_ELEM_USERDATA):
//   NFTNL_UDATA_SET_ELEM_COMMENT  0  NUL-terminated string
//   NFTNL_UDATA_SET_ELEM_FLAGS    1  u32: NFTNL_SET_ELEM_F_INTERVAL_OPEN (1) = range open to the top

export const NFTNL_UDATA_RULE_COMMENT = 0;
export const NFTNL_UDATA_SET_KEYBYTEORDER = 0;
export const NFTNL_UDATA_SET_DATABYTEORDER = 1;
export const NFTNL_UDATA_SET_KEY_TYPEOF = 3;
export const NFTNL_UDATA_SET_DATA_INTERVAL = 6;
export const NFTNL_UDATA_SET_COMMENT = 7;
export const NFTNL_UDATA_SET_ELEM_COMMENT = 0;
export const NFTNL_UDATA_SET_ELEM_FLAGS = 1;
export const NFTNL_SET_ELEM_F_INTERVAL_OPEN = 1;

export class UdataWriter {
  private readonly parts: Buffer[] = [];
  u32(type: number, v: number): this {
    const b = Buffer.alloc(6);
    b[0] = type;
    b[1] = 4;
    b.writeUInt32LE(v >>> 0, 2);
    this.parts.push(b);
    return this;
  }
  str(type: number, s: string): this {
    const len = Buffer.byteLength(s) + 1;
    const b = Buffer.alloc(2 + len);
    b[0] = type;
    b[1] = len;
    b.write(s, 2);
    this.parts.push(b);
    return this;
  }
  raw(type: number, v: Uint8Array): this {
    this.parts.push(Buffer.from([type, v.length]), Buffer.from(v));
    return this;
  }
  bytes(): Buffer {
    return Buffer.concat(this.parts);
  }
}

/** Parses a udata TLV run into type -> value (first occurrence wins). */
export function parseUdata(b: Buffer | undefined): Map<number, Buffer> {
  const out = new Map<number, Buffer>();
  if (!b) return out;
  for (let off = 0; off + 2 <= b.length;) {
    const type = b[off];
    const len = b[off + 1];
    if (off + 2 + len > b.length) break;
    if (!out.has(type)) out.set(type, b.subarray(off + 2, off + 2 + len));
    off += 2 + len;
  }
  return out;
}

export function udataString(v: Buffer | undefined): string | undefined {
  if (!v) return undefined;
  const nul = v.indexOf(0);
  return v.toString('utf8', 0, nul < 0 ? v.length : nul);
}

export function udataU32(v: Buffer | undefined): number | undefined {
  return v && v.length >= 4 ? v.readUInt32LE(0) : undefined;
}

/** Rule userdata holding a comment, as nft writes it. */
export function ruleComment(comment: string): Buffer {
  return new UdataWriter().str(NFTNL_UDATA_RULE_COMMENT, comment).bytes();
}
