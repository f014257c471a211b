// dnsmasq configuration for the cluster controller's DHCP service, rendered
// from DHCP networks. Pure and deterministic: networks sorted by subnet, hosts
// by address.
//
// Three files, split by what dnsmasq re-reads on SIGHUP:
// - the main configuration (--conf-file) is read only at start. It holds what
//   changes only when a group network appears or goes: the interfaces and one
//   static dhcp-range per network (that range sets the network's tag);
// - the hosts file (dhcp-hostsfile) holds one static lease per instance;
// - the options file (dhcp-optsfile) holds each network's router and DNS.
// Instances coming and going, or a router or DNS change, touch only the last
// two, and SIGHUP reloads them. See server.ts for what needs a restart.
// - the hosts directory (dhcp-hostsdir) holds the instances added since the
//   last reload, one file each: dnsmasq reads a new file there at once
//   (inotify), without SIGHUP (hosts-dir.ts).
import { isAbsolute, join } from 'node:path';
import { ValidationError } from '../errors.js';
import type { DhcpNetwork, DnsmasqFiles, DnsmasqPaths, NormalizedNetwork } from './types.js';
import { normalizeNetworks } from './validate.js';

/** Paths dnsmasq reads from its config file: no whitespace, ',' or '#'. */
const PATH_RE = /^\/[A-Za-z0-9_.@+=:/-]*$/;

/** The files of one server, all inside `dir` (an absolute path). */
export function dnsmasqPaths(dir: string): DnsmasqPaths {
  if (typeof dir !== 'string' || !isAbsolute(dir) || !PATH_RE.test(dir)) {
    throw new ValidationError('stateDir', dir, 'must be an absolute path of letters, digits and _ . @ + = : / - (dnsmasq reads it from its config)');
  }
  return {
    dir,
    config: join(dir, 'dnsmasq.conf'),
    hosts: join(dir, 'hosts'),
    hostsDir: join(dir, 'hosts.d'),
    opts: join(dir, 'opts'),
    leases: join(dir, 'leases'),
    pid: join(dir, 'dnsmasq.pid'),
    log: join(dir, 'dnsmasq.log'),
    loaded: join(dir, 'loaded'),
  };
}

export interface RenderOptions {
  /** The state directory the files live in (see dnsmasqPaths). */
  stateDir: string;
  /** Log every DHCP transaction with its options (dnsmasq log-dhcp). */
  logDhcp?: boolean;
}

const HEADER = '# Written by eucanet; edits are overwritten.';

function mainConfig(nets: NormalizedNetwork[], p: DnsmasqPaths, logDhcp: boolean): string {
  const interfaces = [...new Set(nets.map((n) => n.interface))];
  const lines = [
    HEADER,
    '# dnsmasq reads this file only when it starts: it holds the interfaces and one',
    '# static range per network. Instances are in the hosts file and routers and DNS',
    '# in the options file; dnsmasq re-reads both on SIGHUP.',
    '',
    '# DHCP only: no DNS server, no /etc/resolv.conf, no /etc/hosts.',
    'port=0',
    'no-resolv',
    'no-hosts',
    '# Bind each interface, and follow interfaces that appear later (a bridge made',
    '# after dnsmasq started, or deleted and made again). bind-interfaces would',
    '# refuse to start while a listed interface is missing.',
    'bind-dynamic',
    'except-interface=lo',
    ...interfaces.map((i) => `interface=${i}`),
    '# Static leases only: answer known MACs, ignore the rest; NAK a wrong address at',
    '# once instead of letting the client time out.',
    'dhcp-authoritative',
    'dhcp-ignore=tag:!known',
    `dhcp-lease-max=${nets.reduce((s, n) => s + n.size, 0)}`,
    ...nets.map((n) => `dhcp-range=set:${n.tag},${n.network},static,${n.netmask},${n.leaseTime}`),
    `dhcp-hostsfile=${p.hosts}`,
    '# Instances added since the last reload, one file each, read at once (inotify).',
    `dhcp-hostsdir=${p.hostsDir}`,
    `dhcp-optsfile=${p.opts}`,
    `dhcp-leasefile=${p.leases}`,
    `pid-file=${p.pid}`,
    '# Log to stderr, which eucanet sends to the log file next to this one.',
    'log-facility=-',
  ];
  if (logDhcp) lines.push('log-dhcp');
  return `${lines.join('\n')}\n`;
}

/** One static lease as dnsmasq reads it: MAC,address[,hostname]. */
export const hostLine = (h: { mac: string; ip: string; hostname?: string }): string =>
  h.hostname !== undefined ? `${h.mac},${h.ip},${h.hostname}` : `${h.mac},${h.ip}`;

function hostsFile(nets: NormalizedNetwork[]): string {
  const lines = [HEADER, '# One static lease per instance: MAC,address[,hostname]. Re-read on SIGHUP.'];
  for (const n of nets) {
    lines.push(`# ${n.network}/${n.prefix} on ${n.interface}`);
    for (const h of n.hosts) lines.push(hostLine(h));
  }
  return `${lines.join('\n')}\n`;
}

function optsFile(nets: NormalizedNetwork[]): string {
  const lines = [HEADER, "# Each network's router and DNS, by its range's tag. Re-read on SIGHUP."];
  for (const n of nets) {
    lines.push(`tag:${n.tag},option:router,${n.gateway}`);
    if (n.dns.length) lines.push(`tag:${n.tag},option:dns-server,${n.dns.join(',')}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Renders already-normalized networks (see normalizeNetworks). */
export function renderNormalized(nets: NormalizedNetwork[], paths: DnsmasqPaths, opts: { logDhcp?: boolean } = {}): DnsmasqFiles {
  return { config: mainConfig(nets, paths, opts.logDhcp ?? false), hosts: hostsFile(nets), opts: optsFile(nets) };
}

/** Validates the networks and renders dnsmasq's three files. */
export function renderDnsmasq(networks: DhcpNetwork[], opts: RenderOptions): DnsmasqFiles {
  const paths = dnsmasqPaths(opts.stateDir);
  return renderNormalized(normalizeNetworks(networks), paths, opts);
}
