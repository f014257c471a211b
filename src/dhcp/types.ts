// The input of the cluster controller's DHCP service: one entry per group
// network, each with its static hosts. Plain data, independent of the
// MANAGED model (managed/roles/dhcp.ts maps an allocated state onto it).

/** One instance: its MAC gets a fixed address (a static lease). */
export interface DhcpHost {
  /** "d0:0d:0a:01:02:02" (any case; rendered lower-case). */
  mac: string;
  /** A host address inside the network's subnet, e.g. "10.1.2.2". */
  ip: string;
  /** Sent to the instance as its hostname (option 12): one DNS label, e.g. the instance id "i-1". */
  hostname?: string;
}

/** One network served on one interface (a group bridge, eucabrN). */
export interface DhcpNetwork {
  /** The interface the clients are on, e.g. "eucabr10". It carries the gateway address. */
  interface: string;
  /** The group's block, network/prefix: "10.1.2.0/27". */
  subnet: string;
  /** The instances' default route (option 3), inside the subnet: "10.1.2.1". */
  gateway: string;
  /** Name servers (option 6), IPv4. None: the option is not sent. */
  dns?: string[];
  /** Lease time in seconds (at least 120, dnsmasq's minimum), or "infinite". Default 43200 (12 h). */
  leaseTime?: number | 'infinite';
  hosts: DhcpHost[];
}

export const DEFAULT_LEASE_TIME = 43200;

/** A validated network: canonical text, integers for arithmetic, hosts sorted by address. */
export interface NormalizedNetwork {
  interface: string;
  /** dnsmasq tag for this network's range and options: "net-10.1.2.0". */
  tag: string;
  network: string;
  prefix: number;
  netmask: string;
  /** Addresses in the block (2^(32-prefix)). */
  size: number;
  gateway: string;
  dns: string[];
  leaseTime: number | 'infinite';
  hosts: Array<{ mac: string; ip: string; hostname?: string }>;
}

/** Where a server keeps its files; all in one state directory. */
export interface DnsmasqPaths {
  dir: string;
  /** The main configuration (read only when dnsmasq starts). */
  config: string;
  /** dhcp-hostsfile: one line per instance (re-read on SIGHUP). */
  hosts: string;
  /**
   * dhcp-hostsdir: one file per instance added since the last reload, named
   * by its address (dnsmasq reads a new file at once through inotify, no
   * SIGHUP). Emptied at every start and reload (the hosts file then has them).
   */
  hostsDir: string;
  /** dhcp-optsfile: router and DNS per network (re-read on SIGHUP). */
  opts: string;
  /** dhcp-leasefile, written by dnsmasq. */
  leases: string;
  /** pid-file, written by dnsmasq. */
  pid: string;
  /** dnsmasq's stderr (its log, with log-facility=-). */
  log: string;
  /**
   * Written by eucanet once dnsmasq has confirmed reading its files: its pid and
   * a digest of the three files. A later process compares it with the files it
   * would write to tell an unchanged configuration from one to reload.
   */
  loaded: string;
}

/** The three files eucanet writes. */
export interface DnsmasqFiles {
  config: string;
  hosts: string;
  opts: string;
}
