// ctnetlink constants, with their uapi names:
//   /usr/include/linux/netfilter/nfnetlink.h            NFNL_SUBSYS_*, NFNETLINK_V0, struct nfgenmsg
//   /usr/include/linux/netfilter/nfnetlink_conntrack.h  IPCTNL_MSG_CT_*, CTA_*
//   /usr/include/linux/netfilter/nf_conntrack_common.h  IPS_* (enum ip_conntrack_status)
//   /usr/include/linux/netfilter/nf_conntrack_tcp.h     TCP_CONNTRACK_*
//   /usr/include/linux/socket.h                         AF_INET, AF_INET6

export const NFNETLINK_V0 = 0;
export const NFNL_SUBSYS_CTNETLINK = 1;
/** struct nfgenmsg: u8 nfgen_family, u8 version, be16 res_id. */
export const NFGENMSG_LEN = 4;

export const AF_UNSPEC = 0;
export const AF_INET = 2;
export const AF_INET6 = 10;

// enum cntl_msg_types
export const IPCTNL_MSG_CT_NEW = 0;
export const IPCTNL_MSG_CT_GET = 1;
export const IPCTNL_MSG_CT_DELETE = 2;
export const IPCTNL_MSG_CT_GET_STATS = 5;

// enum ctattr_stats_global
export const CTA_STATS_GLOBAL_ENTRIES = 1;

// enum ctattr_type
export const CTA_TUPLE_ORIG = 1;
export const CTA_TUPLE_REPLY = 2;
export const CTA_STATUS = 3;
export const CTA_PROTOINFO = 4;
export const CTA_TIMEOUT = 7;
export const CTA_MARK = 8;
export const CTA_USE = 11;
export const CTA_ID = 12;
export const CTA_ZONE = 18;
export const CTA_MARK_MASK = 21;
export const CTA_FILTER = 25;
export const CTA_STATUS_MASK = 26;

// enum ctattr_filter
export const CTA_FILTER_ORIG_FLAGS = 1;
// CTA_FILTER_F_* (net/netfilter/nf_internals.h: CTA_FILTER_FLAG(CTA_IP_SRC) ...), host order
export const CTA_FILTER_F_CTA_IP_SRC = 1 << 0;
export const CTA_FILTER_F_CTA_IP_DST = 1 << 1;

// enum ctattr_tuple
export const CTA_TUPLE_IP = 1;
export const CTA_TUPLE_PROTO = 2;
export const CTA_TUPLE_ZONE = 3;

// enum ctattr_ip
export const CTA_IP_V4_SRC = 1;
export const CTA_IP_V4_DST = 2;
export const CTA_IP_V6_SRC = 3;
export const CTA_IP_V6_DST = 4;

// enum ctattr_l4proto
export const CTA_PROTO_NUM = 1;
export const CTA_PROTO_SRC_PORT = 2;
export const CTA_PROTO_DST_PORT = 3;
export const CTA_PROTO_ICMP_ID = 4;
export const CTA_PROTO_ICMP_TYPE = 5;
export const CTA_PROTO_ICMP_CODE = 6;
export const CTA_PROTO_ICMPV6_ID = 7;
export const CTA_PROTO_ICMPV6_TYPE = 8;
export const CTA_PROTO_ICMPV6_CODE = 9;

// enum ctattr_protoinfo, enum ctattr_protoinfo_tcp
export const CTA_PROTOINFO_TCP = 1;
export const CTA_PROTOINFO_TCP_STATE = 1;

// IP protocol numbers (/usr/include/netinet/in.h IPPROTO_*)
export const IPPROTO_ICMP = 1;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPPROTO_ICMPV6 = 58;

/** enum ip_conntrack_status: bit -> name (IPS_ dropped), in bit order. */
export const IPS_NAMES = [
  'EXPECTED',
  'SEEN_REPLY',
  'ASSURED',
  'CONFIRMED',
  'SRC_NAT',
  'DST_NAT',
  'SEQ_ADJUST',
  'SRC_NAT_DONE',
  'DST_NAT_DONE',
  'DYING',
  'FIXED_TIMEOUT',
  'TEMPLATE',
  'UNTRACKED',
  'HELPER',
  'OFFLOAD',
  'HW_OFFLOAD',
] as const;
export const IPS_SRC_NAT = 1 << 4;
export const IPS_DST_NAT = 1 << 5;

/** enum tcp_conntrack: value -> name (TCP_CONNTRACK_ dropped). 9 is SYN_SENT2 (was LISTEN). */
export const TCP_CONNTRACK_NAMES = [
  'NONE',
  'SYN_SENT',
  'SYN_RECV',
  'ESTABLISHED',
  'FIN_WAIT',
  'CLOSE_WAIT',
  'LAST_ACK',
  'TIME_WAIT',
  'CLOSE',
  'SYN_SENT2',
] as const;
