// The typed shape of conntrack entries and of the filters that select them.

/** An l4 protocol by name, or its IP protocol number for the others. */
export type CtProtocol = 'tcp' | 'udp' | 'icmp' | 'icmpv6' | number;

/** One direction of a connection, as the kernel tracks it. */
export interface CtTuple {
  src: string;
  dst: string;
  /** TCP, UDP (and other port-based protocols): the ports. */
  sport?: number;
  dport?: number;
  /** ICMP / ICMPv6: echo id, type and code. */
  icmpId?: number;
  icmpType?: number;
  icmpCode?: number;
  /** A zone of this direction only (CTA_TUPLE_ZONE), when the entry has one. */
  zone?: number;
}

/** enum ip_conntrack_status bit names (IPS_ dropped). */
export type CtStatusName =
  | 'EXPECTED'
  | 'SEEN_REPLY'
  | 'ASSURED'
  | 'CONFIRMED'
  | 'SRC_NAT'
  | 'DST_NAT'
  | 'SEQ_ADJUST'
  | 'SRC_NAT_DONE'
  | 'DST_NAT_DONE'
  | 'DYING'
  | 'FIXED_TIMEOUT'
  | 'TEMPLATE'
  | 'UNTRACKED'
  | 'HELPER'
  | 'OFFLOAD'
  | 'HW_OFFLOAD';

/** enum tcp_conntrack names (TCP_CONNTRACK_ dropped). */
export type CtTcpState = 'NONE' | 'SYN_SENT' | 'SYN_RECV' | 'ESTABLISHED' | 'FIN_WAIT' | 'CLOSE_WAIT' | 'LAST_ACK' | 'TIME_WAIT' | 'CLOSE' | 'SYN_SENT2';

/** One conntrack entry. */
export interface CtEntry {
  family: 'ipv4' | 'ipv6';
  protocol: CtProtocol;
  /** The direction of the first packet (before NAT). */
  orig: CtTuple;
  /** The direction of the answers: after NAT, its source is where the first packet went. */
  reply: CtTuple;
  /** IPS_* bits as the kernel sent them, and their names. */
  status: number;
  statusNames: CtStatusName[];
  /** TCP's state in the kernel's tracker. */
  tcpState?: CtTcpState;
  mark: number;
  /** Zone (0 when the kernel sent none). */
  zone: number;
  /** Seconds left. */
  timeout?: number;
  /** The kernel's id of the entry (CTA_ID): a delete with it removes this entry and no newer one with the same tuple. */
  id?: number;
  use?: number;
}

/** A value under a mask: the entry matches when (value & mask) === (want & mask). */
export interface CtMasked {
  value: number;
  /** Default 0xffffffff. */
  mask?: number;
}

/**
 * Which entries to list or flush. Every field given must match. `family`,
 * `mark`, `zone` and `status` are filtered by the kernel; the rest here.
 */
export interface CtFilter {
  family?: 'ipv4' | 'ipv6';
  mark?: number | CtMasked;
  zone?: number;
  /** Status bits: names that must all be set, or a raw value under a mask. */
  status?: CtStatusName[] | CtMasked;
  protocol?: CtProtocol;
  /** Original direction: source/destination address (or CIDR) and ports. */
  orig?: CtTupleFilter;
  /** Reply direction. */
  reply?: CtTupleFilter;
}

export interface CtTupleFilter {
  /** An address or a CIDR ("10.1.0.0/16"). */
  src?: string;
  dst?: string;
  sport?: number;
  dport?: number;
}

/** What a flush did. */
export interface CtFlushResult {
  /** Entries this call deleted (for a kernel-side flush, the entries that matched just before). */
  deleted: number;
  /** Entries that were gone by the time their delete arrived (ENOENT): not errors. */
  vanished: number;
  /** Whether the kernel did the selecting and deleting in one request. */
  kernelSide: boolean;
}
