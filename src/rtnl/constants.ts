// Rtnetlink message types, family headers' field values and flags.
// From /usr/include/linux/rtnetlink.h, if.h, if_link.h, if_ether.h, socket.h.

// Message types (rtnetlink.h)
export const RTM_NEWLINK = 16;
export const RTM_DELLINK = 17;
export const RTM_GETLINK = 18;
export const RTM_SETLINK = 19;
export const RTM_NEWADDR = 20;
export const RTM_DELADDR = 21;
export const RTM_GETADDR = 22;
export const RTM_NEWROUTE = 24;
export const RTM_DELROUTE = 25;
export const RTM_GETROUTE = 26;
export const RTM_NEWNEIGH = 28;
export const RTM_DELNEIGH = 29;
export const RTM_GETNEIGH = 30;

// Multicast groups (rtnetlink.h, enum rtnetlink_groups): joined with
// NETLINK_ADD_MEMBERSHIP to receive notifications.
export const RTNLGRP_LINK = 1;
export const RTNLGRP_NEIGH = 3;
export const RTNLGRP_IPV4_IFADDR = 5;
export const RTNLGRP_IPV4_ROUTE = 7;
export const RTNLGRP_IPV6_IFADDR = 9;
export const RTNLGRP_IPV6_ROUTE = 11;

// Address families (socket.h)
export const AF_UNSPEC = 0;
export const AF_INET = 2;
export const AF_BRIDGE = 7;
export const AF_INET6 = 10;

// struct ifinfomsg: family u8, pad u8, type u16, index i32, flags u32, change u32
export const IFINFOMSG_LEN = 16;
// struct ifaddrmsg: family u8, prefixlen u8, flags u8, scope u8, index u32
export const IFADDRMSG_LEN = 8;
// struct rtmsg: family, dst_len, src_len, tos, table, protocol, scope, type (u8 each), flags u32
export const RTMSG_LEN = 12;
// struct ndmsg (neighbour.h): family u8, pad1 u8, pad2 u16, ifindex i32, state u16, flags u8, type u8
export const NDMSG_LEN = 12;

// Neighbour cache entry states, ndm_state (neighbour.h)
export const NUD_INCOMPLETE = 0x01;
export const NUD_REACHABLE = 0x02;
export const NUD_STALE = 0x04;
export const NUD_DELAY = 0x08;
export const NUD_PROBE = 0x10;
export const NUD_FAILED = 0x20;
export const NUD_NOARP = 0x40;
export const NUD_PERMANENT = 0x80;
export const NUD_NONE = 0x00;

// Neighbour cache entry flags, ndm_flags (neighbour.h)
export const NTF_USE = 1 << 0;
export const NTF_SELF = 1 << 1;
export const NTF_MASTER = 1 << 2;
export const NTF_PROXY = 1 << 3;
export const NTF_EXT_LEARNED = 1 << 4;
export const NTF_OFFLOADED = 1 << 5;
export const NTF_STICKY = 1 << 6;
export const NTF_ROUTER = 1 << 7;
// Extended flags, NDA_FLAGS_EXT (neighbour.h)
export const NTF_EXT_MANAGED = 1 << 0;

// Interface flags (if.h)
export const IFF_UP = 0x1;
export const IFF_BROADCAST = 0x2;
export const IFF_LOOPBACK = 0x8;
export const IFF_POINTOPOINT = 0x10;
export const IFF_RUNNING = 0x40;
export const IFF_NOARP = 0x80;
export const IFF_PROMISC = 0x100;
export const IFF_MULTICAST = 0x1000;
export const IFF_LOWER_UP = 0x10000;

// Route scopes (rtnetlink.h, enum rt_scope_t)
export const RT_SCOPE_UNIVERSE = 0;
export const RT_SCOPE_SITE = 200;
export const RT_SCOPE_LINK = 253;
export const RT_SCOPE_HOST = 254;
export const RT_SCOPE_NOWHERE = 255;

// Route types (rtnetlink.h)
export const RTN_UNICAST = 1;
export const RTN_LOCAL = 2;
export const RTN_BROADCAST = 3;
export const RTN_BLACKHOLE = 6;
export const RTN_UNREACHABLE = 7;
export const RTN_PROHIBIT = 8;

// Route protocols (rtnetlink.h)
export const RTPROT_KERNEL = 2;
export const RTPROT_BOOT = 3;
export const RTPROT_STATIC = 4;

// Routing tables (rtnetlink.h)
export const RT_TABLE_UNSPEC = 0;
export const RT_TABLE_DEFAULT = 253;
export const RT_TABLE_MAIN = 254;
export const RT_TABLE_LOCAL = 255;

// Address flags (if_addr.h)
export const IFA_F_SECONDARY = 0x01;
export const IFA_F_NODAD = 0x02;
export const IFA_F_PERMANENT = 0x80;
export const IFA_F_NOPREFIXROUTE = 0x200;

// Ethertypes for VLAN protocols (if_ether.h)
export const ETH_P_8021Q = 0x8100;
export const ETH_P_8021AD = 0x88a8;

// enum macvlan_mode (if_link.h)
export const MACVLAN_MODE_PRIVATE = 1;
export const MACVLAN_MODE_VEPA = 2;
export const MACVLAN_MODE_BRIDGE = 4;
export const MACVLAN_MODE_PASSTHRU = 8;
export const MACVLAN_MODE_SOURCE = 16;

// IFLA_OPERSTATE values (if.h, RFC 2863)
export const OPERSTATES = ['unknown', 'notpresent', 'down', 'lowerlayerdown', 'testing', 'dormant', 'up'] as const;

export const IFNAMSIZ = 16;

// IFLA_EXT_MASK bits (rtnetlink.h)
export const RTEXT_FILTER_VF = 1 << 0;
export const RTEXT_FILTER_SKIP_STATS = 1 << 3;
