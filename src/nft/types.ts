// The typed nftables objects this layer writes, reads back and renders.
// Everything here is plain data: builders and parsers produce it already
// validated, so encoding is a straight walk with no string parsing.

export type Family = 'ip' | 'ip6' | 'inet' | 'arp' | 'bridge' | 'netdev';

export type VerdictCode = 'accept' | 'drop' | 'continue' | 'return' | 'jump' | 'goto' | 'break';
export interface Verdict {
  code: VerdictCode;
  /** Target chain of a jump or goto. */
  chain?: string;
}

export interface Table {
  family: Family;
  name: string;
  flags?: ReadonlyArray<'dormant' | 'owner'>;
  /** Set by the kernel; present on objects read back. */
  handle?: bigint;
}

export type ChainType = 'filter' | 'nat' | 'route';
export type Hook = 'prerouting' | 'input' | 'forward' | 'output' | 'postrouting' | 'ingress' | 'egress';

export interface Chain {
  family: Family;
  table: string;
  name: string;
  /** Base chains only: type, hook and priority (and device for netdev/ingress). */
  type?: ChainType;
  hook?: Hook;
  priority?: number;
  policy?: 'accept' | 'drop';
  device?: string;
  handle?: bigint;
}

export interface Rule {
  family: Family;
  table: string;
  chain: string;
  exprs: Expr[];
  /** Stored as rule userdata (NFTNL_UDATA_RULE_COMMENT) so `nft list` shows it. */
  comment?: string;
  handle?: bigint;
}

/** Set key and data types, by their nft names. */
export type DataTypeName =
  | 'ipv4_addr'
  | 'ipv6_addr'
  | 'ether_addr'
  | 'inet_proto'
  | 'inet_service'
  | 'ifname'
  | 'mark'
  | 'nf_proto'
  | 'ether_type'
  | 'icmp_type'
  | 'icmp_code'
  | 'icmpv6_type'
  | 'ct_state'
  | 'ct_dir'
  | 'ct_status'
  | 'iface_index'
  | 'iface_type'
  | 'integer';

export type SetFlag = 'constant' | 'interval' | 'timeout' | 'dynamic' | 'anonymous';

export interface NftSet {
  family: Family;
  table: string;
  name: string;
  /** One type, or several for a concatenation ("ipv4_addr . inet_service"). */
  key: DataTypeName | readonly DataTypeName[];
  /** A map's value type; 'verdict' makes a verdict map. */
  data?: DataTypeName | 'verdict';
  flags?: readonly SetFlag[];
  /** Default element timeout, milliseconds. */
  timeout?: number;
  gcInterval?: number;
  size?: number;
  policy?: 'performance' | 'memory';
  comment?: string;
  /** Byte lengths, only for 'integer' keys or values (types nft has no fixed size for). */
  keyLen?: number;
  dataLen?: number;
  handle?: bigint;
}

/**
 * One element, already in wire form. In interval sets every element is a
 * range: `keyEnd` is its inclusive end (equal to `key` for a single value).
 */
export interface SetElement {
  key: Buffer;
  keyEnd?: Buffer;
  data?: Buffer;
  verdict?: Verdict;
  /** Milliseconds. */
  timeout?: number;
  /** Milliseconds left; only on elements read back. */
  expires?: number;
  comment?: string;
}

// ---- expressions -------------------------------------------------------

export type PayloadBase = 'll' | 'network' | 'transport' | 'inner';
export type CmpOp = 'eq' | 'neq' | 'lt' | 'lte' | 'gt' | 'gte';
export type MetaKey =
  | 'len'
  | 'protocol'
  | 'priority'
  | 'mark'
  | 'iif'
  | 'oif'
  | 'iifname'
  | 'oifname'
  | 'iiftype'
  | 'oiftype'
  | 'skuid'
  | 'skgid'
  | 'nftrace'
  | 'rtclassid'
  | 'secmark'
  | 'nfproto'
  | 'l4proto'
  | 'ibrname'
  | 'obrname'
  | 'pkttype'
  | 'cpu'
  | 'iifgroup'
  | 'oifgroup'
  | 'cgroup'
  | 'random'
  | 'secpath'
  | 'iifkind'
  | 'oifkind'
  | 'ibrpvid'
  | 'ibrvproto'
  | 'time'
  | 'day'
  | 'hour'
  | 'sdif'
  | 'sdifname';
export type CtKey =
  | 'state'
  | 'direction'
  | 'status'
  | 'mark'
  | 'secmark'
  | 'expiration'
  | 'helper'
  | 'l3proto'
  | 'saddr'
  | 'daddr'
  | 'protocol'
  | 'proto-src'
  | 'proto-dst'
  | 'label'
  | 'packets'
  | 'bytes'
  | 'avgpkt'
  | 'zone'
  | 'event'
  | 'ip saddr'
  | 'ip daddr'
  | 'ip6 saddr'
  | 'ip6 daddr'
  | 'id';
export type NatFlag = 'random' | 'fully-random' | 'persistent' | 'netmap';

export interface MetaExpr {
  kind: 'meta';
  key: MetaKey;
  dreg?: number;
  sreg?: number;
}
export interface PayloadExpr {
  kind: 'payload';
  base: PayloadBase;
  offset: number;
  len: number;
  dreg?: number;
  /** Payload write (mangling): source register and checksum fix-up. */
  sreg?: number;
  csumType?: number;
  csumOffset?: number;
  csumFlags?: number;
}
export interface CmpExpr {
  kind: 'cmp';
  sreg: number;
  op: CmpOp;
  data: Buffer;
}
export interface BitwiseExpr {
  kind: 'bitwise';
  sreg: number;
  dreg: number;
  len: number;
  /** mask and xor for the boolean form; `shift` for lshift/rshift. */
  mask?: Buffer;
  xor?: Buffer;
  shift?: { op: 'lshift' | 'rshift'; bits: number };
}
export interface RangeExpr {
  kind: 'range';
  sreg: number;
  op: 'eq' | 'neq';
  from: Buffer;
  to: Buffer;
}
export interface LookupExpr {
  kind: 'lookup';
  set: string;
  sreg: number;
  dreg?: number;
  invert?: boolean;
}
export interface CtExpr {
  kind: 'ct';
  key: CtKey;
  dreg?: number;
  sreg?: number;
  direction?: 'original' | 'reply';
}
export interface ImmediateExpr {
  kind: 'immediate';
  dreg: number;
  data?: Buffer;
  verdict?: Verdict;
}
export interface NatExpr {
  kind: 'nat';
  nat: 'snat' | 'dnat';
  family: 'ip' | 'ip6';
  regAddrMin?: number;
  regAddrMax?: number;
  regProtoMin?: number;
  regProtoMax?: number;
  flags?: readonly NatFlag[];
}
export interface MasqExpr {
  kind: 'masq';
  regProtoMin?: number;
  regProtoMax?: number;
  flags?: readonly NatFlag[];
}
export interface RedirExpr {
  kind: 'redir';
  regProtoMin?: number;
  regProtoMax?: number;
  flags?: readonly NatFlag[];
}
export interface CounterExpr {
  kind: 'counter';
  packets?: bigint;
  bytes?: bigint;
}
export type LogLevel = 'emerg' | 'alert' | 'crit' | 'err' | 'warn' | 'notice' | 'info' | 'debug' | 'audit';
export interface LogExpr {
  kind: 'log';
  prefix?: string;
  /** Syslog level; omitted means the kernel default, warn. */
  level?: LogLevel;
  /** nflog group (instead of syslog), with its snaplen and queue threshold. */
  group?: number;
  snaplen?: number;
  qthreshold?: number;
  flags?: number;
}
export interface LimitExpr {
  kind: 'limit';
  rate: number;
  /** Seconds per period: 1, 60, 3600, 86400, 604800. */
  unit: number;
  burst: number;
  type: 'packets' | 'bytes';
  /** "limit rate over": matches when the rate is exceeded. */
  over?: boolean;
}
export interface RejectExpr {
  kind: 'reject';
  /** 'icmp' is NFT_REJECT_ICMP_UNREACH: ICMP in ip, ICMPv6 in ip6 (inet: by the nfproto match before it). */
  type: 'icmp' | 'tcp-reset' | 'icmpx';
  /** ICMP / ICMPv6 / ICMPX code; not used with tcp-reset. */
  code?: number;
}
/** An expression this library has no typed form for, kept as bytes so that it round-trips. */
export interface RawExpr {
  kind: 'raw';
  name: string;
  data: Buffer;
}

export type Expr =
  | MetaExpr
  | PayloadExpr
  | CmpExpr
  | BitwiseExpr
  | RangeExpr
  | LookupExpr
  | CtExpr
  | ImmediateExpr
  | NatExpr
  | MasqExpr
  | RedirExpr
  | CounterExpr
  | LogExpr
  | LimitExpr
  | RejectExpr
  | RawExpr;
