// Data types of set keys, map values and matched fields: nft's type number
// (what NFTA_SET_KEY_TYPE carries), the byte length and byte order, a parser
// run once when a value enters the library, and a formatter for rendering.
import { ValidationError } from '../errors.js';
import { formatEther, formatIPv4, formatIPv6, parseEther, parseIPv4, parseIPv6 } from './build/addr.js';
import type { DataTypeName } from './types.js';

export type Scalar = string | number | bigint;

// nft's byte order enum, as written in set userdata (NFTNL_UDATA_SET_*BYTEORDER).
export const BYTEORDER_INVALID = 0;
export const BYTEORDER_HOST = 1;
export const BYTEORDER_BIG = 2;

export interface DataType {
  name: DataTypeName;
  /** nft's datatype number (enum datatypes in nft's datatype.h; 7 = ipv4_addr, ...). */
  id: number;
  /** Bytes on the wire; 0 for integer, whose length the user gives. */
  len: number;
  byteorder: number;
  /** Flags are matched with a mask ("ct state established,related"). */
  bitmask?: boolean;
  parse(v: Scalar, field: string, len?: number): Buffer;
  format(b: Buffer): string;
}

function bad(field: string, v: unknown, why: string): never {
  throw new ValidationError(field, v, why);
}

function uint(v: Scalar, field: string, max: number, base = 10): number {
  const n = typeof v === 'string' && /^(0x[0-9a-f]+|\d+)$/i.test(v.trim()) ? Number(v.trim()) : v;
  if (typeof n === 'bigint') return uint(Number(n), field, max, base);
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > max) {
    bad(field, v, `expected an integer from 0 to ${max}`);
  }
  return n;
}

function symbols(table: Record<string, number>) {
  const byNum = new Map<number, string>();
  for (const [k, v] of Object.entries(table)) if (!byNum.has(v)) byNum.set(v, k);
  return { table, byNum };
}

function symbolic(name: DataTypeName, id: number, len: 1 | 2 | 4, byteorder: number, syms: Record<string, number>, hex = false): DataType {
  const { table, byNum } = symbols(syms);
  const max = len === 4 ? 0xffffffff : (1 << (len * 8)) - 1;
  return {
    name,
    id,
    len,
    byteorder,
    parse(v, field) {
      const n = typeof v === 'string' && Object.hasOwn(table, v) ? table[v] : uint(v, field, max);
      const b = Buffer.alloc(len);
      if (len === 1) b[0] = n;
      else if (len === 2) {
        if (byteorder === BYTEORDER_HOST) b.writeUInt16LE(n);
        else b.writeUInt16BE(n);
      } else if (byteorder === BYTEORDER_HOST) b.writeUInt32LE(n);
      else b.writeUInt32BE(n);
      return b;
    },
    format(b) {
      const n = readUint(b, len, byteorder);
      return byNum.get(n) ?? (hex ? `0x${n.toString(16).padStart(len * 2, '0')}` : String(n));
    },
  };
}

function readUint(b: Buffer, len: number, byteorder: number): number {
  if (b.length < len) return 0;
  if (len === 1) return b[0];
  if (len === 2) return byteorder === BYTEORDER_HOST ? b.readUInt16LE(0) : b.readUInt16BE(0);
  return byteorder === BYTEORDER_HOST ? b.readUInt32LE(0) : b.readUInt32BE(0);
}

function bitmask(name: DataTypeName, id: number, bits: Record<string, number>): DataType {
  const { table } = symbols(bits);
  return {
    name,
    id,
    len: 4,
    byteorder: BYTEORDER_HOST,
    bitmask: true,
    parse(v, field) {
      let n = 0;
      const parts = typeof v === 'string' ? v.split(',').map((s) => s.trim()) : [v];
      for (const p of parts) n |= typeof p === 'string' && Object.hasOwn(table, p) ? table[p] : uint(p, field, 0xffffffff);
      const b = Buffer.alloc(4);
      b.writeUInt32LE(n >>> 0);
      return b;
    },
    format(b) {
      const n = b.length >= 4 ? b.readUInt32LE(0) : 0;
      const names: string[] = [];
      let rest = n;
      for (const [k, v] of Object.entries(table)) {
        if (n & v) {
          names.push(k);
          rest &= ~v;
        }
      }
      if (rest) names.push(`0x${(rest >>> 0).toString(16)}`);
      return names.length ? names.join(',') : '0x0';
    },
  };
}

const ipv4: DataType = {
  name: 'ipv4_addr',
  id: 7,
  len: 4,
  byteorder: BYTEORDER_BIG,
  parse: (v, field) => (typeof v === 'string' && parseIPv4(v)) || bad(field, v, 'not an IPv4 address'),
  format: (b) => formatIPv4(b),
};
const ipv6: DataType = {
  name: 'ipv6_addr',
  id: 8,
  len: 16,
  byteorder: BYTEORDER_BIG,
  parse: (v, field) => (typeof v === 'string' && parseIPv6(v)) || bad(field, v, 'not an IPv6 address'),
  format: (b) => formatIPv6(b),
};
const ether: DataType = {
  name: 'ether_addr',
  id: 9,
  len: 6,
  byteorder: BYTEORDER_BIG,
  parse: (v, field) => (typeof v === 'string' && parseEther(v)) || bad(field, v, 'not an Ethernet address'),
  format: (b) => formatEther(b),
};
const service: DataType = {
  name: 'inet_service',
  id: 13,
  len: 2,
  byteorder: BYTEORDER_BIG,
  parse(v, field) {
    const b = Buffer.alloc(2);
    b.writeUInt16BE(uint(v, field, 65535));
    return b;
  },
  format: (b) => String(b.readUInt16BE(0)),
};
/** An interface name with other than printable ASCII, checked as the kernel takes it (at most 15 bytes of UTF-8). */
function ifnameBytes(v: string, field: string): Buffer {
  if (Buffer.byteLength(v) > 15 || /[\0"\s]/.test(v)) bad(field, v, 'expected an interface name of 1 to 15 bytes');
  const b = Buffer.alloc(16);
  b.write(v);
  return b;
}

const ifname: DataType = {
  name: 'ifname',
  id: 41,
  len: 16,
  byteorder: BYTEORDER_HOST,
  parse(v, field) {
    if (typeof v !== 'string' || v.length === 0 || v.length > 15) bad(field, v, 'expected an interface name of 1 to 15 bytes');
    // A printable ASCII name (every port of a cloud) is copied byte by byte:
    // no call into C++ for its length and its bytes, thousands of times in a
    // node's sets.
    const b = Buffer.alloc(16);
    for (let i = 0; i < v.length; i++) {
      const c = v.charCodeAt(i);
      if (c <= 0x20 || c >= 0x7f || c === 0x22) return ifnameBytes(v, field);
      b[i] = c;
    }
    return b;
  },
  format(b) {
    const nul = b.indexOf(0);
    const s = b.toString('utf8', 0, nul < 0 ? b.length : nul);
    // A match on fewer than 16 bytes with no NUL is a wildcard prefix ("eth*").
    return JSON.stringify(nul < 0 && b.length < 16 ? `${s}*` : s);
  },
};
const integer: DataType = {
  name: 'integer',
  id: 4,
  len: 0,
  byteorder: BYTEORDER_HOST,
  parse(v, field, len = 4) {
    const n = typeof v === 'bigint' ? v : BigInt(uint(v, field, Number.MAX_SAFE_INTEGER));
    if (n >= 1n << BigInt(len * 8)) bad(field, v, `does not fit in ${len} bytes`);
    const b = Buffer.alloc(len);
    for (let i = 0; i < len; i++) b[i] = Number((n >> BigInt(8 * i)) & 0xffn);
    return b;
  },
  format(b) {
    let n = 0n;
    for (let i = b.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(b[i]);
    return n.toString();
  },
};

export const INET_PROTOS: Record<string, number> = {
  icmp: 1,
  igmp: 2,
  tcp: 6,
  udp: 17,
  dccp: 33,
  ipv6: 41,
  gre: 47,
  esp: 50,
  ah: 51,
  'ipv6-icmp': 58,
  icmpv6: 58,
  sctp: 132,
  udplite: 136,
};

const TYPES: DataType[] = [
  ipv4,
  ipv6,
  ether,
  service,
  ifname,
  integer,
  symbolic('inet_proto', 12, 1, BYTEORDER_INVALID, INET_PROTOS),
  symbolic('mark', 19, 4, BYTEORDER_HOST, {}, true),
  symbolic('nf_proto', 2, 1, BYTEORDER_HOST, { ipv4: 2, ipv6: 10 }),
  symbolic('ether_type', 10, 2, BYTEORDER_BIG, { ip: 0x0800, arp: 0x0806, ip6: 0x86dd, vlan: 0x8100 }, true),
  symbolic('icmp_type', 14, 1, BYTEORDER_BIG, {
    'echo-reply': 0,
    'destination-unreachable': 3,
    'source-quench': 4,
    redirect: 5,
    'echo-request': 8,
    'router-advertisement': 9,
    'router-solicitation': 10,
    'time-exceeded': 11,
    'parameter-problem': 12,
    'timestamp-request': 13,
    'timestamp-reply': 14,
    'info-request': 15,
    'info-reply': 16,
    'address-mask-request': 17,
    'address-mask-reply': 18,
  }),
  symbolic('icmp_code', 32, 1, BYTEORDER_BIG, {
    'net-unreachable': 0,
    'host-unreachable': 1,
    'prot-unreachable': 2,
    'port-unreachable': 3,
    'frag-needed': 4,
    'net-prohibited': 9,
    'host-prohibited': 10,
    'admin-prohibited': 13,
  }),
  symbolic('icmpv6_type', 29, 1, BYTEORDER_BIG, {
    'destination-unreachable': 1,
    'packet-too-big': 2,
    'time-exceeded': 3,
    'parameter-problem': 4,
    'echo-request': 128,
    'echo-reply': 129,
    'nd-router-solicit': 133,
    'nd-router-advert': 134,
    'nd-neighbor-solicit': 135,
    'nd-neighbor-advert': 136,
    'nd-redirect': 137,
  }),
  symbolic('ct_dir', 27, 1, BYTEORDER_HOST, { original: 0, reply: 1 }),
  symbolic('iface_index', 20, 4, BYTEORDER_HOST, {}),
  symbolic('iface_type', 21, 2, BYTEORDER_HOST, { ether: 1, ppp: 512, loopback: 772, ipip: 768, gre: 778 }),
  bitmask('ct_state', 26, { invalid: 1, established: 2, related: 4, new: 8, untracked: 64 }),
  bitmask('ct_status', 28, {
    expected: 1,
    'seen-reply': 2,
    assured: 4,
    confirmed: 8,
    snat: 16,
    dnat: 32,
    dying: 512,
  }),
];

const BY_NAME = new Map<string, DataType>(TYPES.map((t) => [t.name, t]));
const BY_ID = new Map<number, DataType>(TYPES.map((t) => [t.id, t]));

export function dataType(name: DataTypeName): DataType {
  const t = BY_NAME.get(name);
  if (!t) throw new ValidationError('type', name, 'unknown data type');
  return t;
}
export function isDataTypeName(name: unknown): name is DataTypeName {
  return typeof name === 'string' && BY_NAME.has(name);
}
export function dataTypeById(id: number): DataType | undefined {
  return BY_ID.get(id);
}

/** nft's concatenated type number: 6 bits per component (TYPE_BITS), first component highest. */
export const CONCAT_TYPE_BITS = 6;
export function concatTypeId(ids: number[]): number {
  let id = 0;
  for (const t of ids) id = (id << CONCAT_TYPE_BITS) | t;
  return id >>> 0;
}
export function splitConcatTypeId(id: number, n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    out.unshift(id & ((1 << CONCAT_TYPE_BITS) - 1));
    id >>>= CONCAT_TYPE_BITS;
  }
  return out;
}

/** Register-aligned size of one concatenation component. */
export function padded(len: number): number {
  return (len + 3) & ~3;
}
