// dnsmasq files rendered from DHCP networks: golden text, determinism, and the
// split between the main configuration (read at start) and the files dnsmasq
// re-reads on SIGHUP.
import { describe, expect, it } from 'vitest';
import { dnsmasqPaths, renderDnsmasq, type DhcpNetwork } from '../../src/dhcp/index.js';
import { dhcpNetworksOf } from '../../src/managed/roles/dhcp.js';
import { allocate } from '../../src/managed/index.js';

const DIR = '/run/eucanet/cc/dnsmasq';

const seedNetworks = (): DhcpNetwork[] => [
  {
    interface: 'eucabr11',
    subnet: '10.1.2.32/27',
    gateway: '10.1.2.33',
    dns: ['192.168.32.1'],
    leaseTime: 3600,
    hosts: [
      { mac: 'd0:0d:0a:01:02:23', ip: '10.1.2.35', hostname: 'i-4' },
      { mac: 'D0:0D:0A:01:02:22', ip: '10.1.2.34', hostname: 'i-3' },
    ],
  },
  {
    interface: 'eucabr10',
    subnet: '10.1.2.0/27',
    gateway: '10.1.2.1',
    dns: ['192.168.32.1', '8.8.8.8'],
    hosts: [
      { mac: 'd0:0d:0a:01:02:03', ip: '10.1.2.3' },
      { mac: 'd0:0d:0a:01:02:02', ip: '10.1.2.2', hostname: 'i-1' },
    ],
  },
];

const GOLDEN_CONFIG = `# Written by eucanet; edits are overwritten.
# dnsmasq reads this file only when it starts: it holds the interfaces and one
# static range per network. Instances are in the hosts file and routers and DNS
# in the options file; dnsmasq re-reads both on SIGHUP.

# DHCP only: no DNS server, no /etc/resolv.conf, no /etc/hosts.
port=0
no-resolv
no-hosts
# Bind each interface, and follow interfaces that appear later (a bridge made
# after dnsmasq started, or deleted and made again). bind-interfaces would
# refuse to start while a listed interface is missing.
bind-dynamic
except-interface=lo
interface=eucabr10
interface=eucabr11
# Static leases only: answer known MACs, ignore the rest; NAK a wrong address at
# once instead of letting the client time out.
dhcp-authoritative
dhcp-ignore=tag:!known
dhcp-lease-max=64
dhcp-range=set:net-10.1.2.0,10.1.2.0,static,255.255.255.224,43200
dhcp-range=set:net-10.1.2.32,10.1.2.32,static,255.255.255.224,3600
dhcp-hostsfile=/run/eucanet/cc/dnsmasq/hosts
# Instances added since the last reload, one file each, read at once (inotify).
dhcp-hostsdir=/run/eucanet/cc/dnsmasq/hosts.d
dhcp-optsfile=/run/eucanet/cc/dnsmasq/opts
dhcp-leasefile=/run/eucanet/cc/dnsmasq/leases
pid-file=/run/eucanet/cc/dnsmasq/dnsmasq.pid
# Log to stderr, which eucanet sends to the log file next to this one.
log-facility=-
log-dhcp
`;

const GOLDEN_HOSTS = `# Written by eucanet; edits are overwritten.
# One static lease per instance: MAC,address[,hostname]. Re-read on SIGHUP.
# 10.1.2.0/27 on eucabr10
d0:0d:0a:01:02:02,10.1.2.2,i-1
d0:0d:0a:01:02:03,10.1.2.3
# 10.1.2.32/27 on eucabr11
d0:0d:0a:01:02:22,10.1.2.34,i-3
d0:0d:0a:01:02:23,10.1.2.35,i-4
`;

const GOLDEN_OPTS = `# Written by eucanet; edits are overwritten.
# Each network's router and DNS, by its range's tag. Re-read on SIGHUP.
tag:net-10.1.2.0,option:router,10.1.2.1
tag:net-10.1.2.0,option:dns-server,192.168.32.1,8.8.8.8
tag:net-10.1.2.32,option:router,10.1.2.33
tag:net-10.1.2.32,option:dns-server,192.168.32.1
`;

describe('renderDnsmasq', () => {
  it('renders the golden config, hosts and options files', () => {
    const f = renderDnsmasq(seedNetworks(), { stateDir: DIR, logDhcp: true });
    expect(f.config).toBe(GOLDEN_CONFIG);
    expect(f.hosts).toBe(GOLDEN_HOSTS);
    expect(f.opts).toBe(GOLDEN_OPTS);
  });

  it('is deterministic: input order does not matter', () => {
    const a = renderDnsmasq(seedNetworks(), { stateDir: DIR });
    const shuffled = seedNetworks().reverse();
    shuffled.forEach((n) => n.hosts.reverse());
    expect(renderDnsmasq(shuffled, { stateDir: DIR })).toEqual(a);
  });

  it('leaves log-dhcp out unless asked', () => {
    expect(renderDnsmasq(seedNetworks(), { stateDir: DIR }).config).not.toMatch(/^log-dhcp$/m);
  });

  it('keeps instances, routers and DNS out of the main config', () => {
    const base = renderDnsmasq(seedNetworks(), { stateDir: DIR });
    const changed = seedNetworks();
    changed[1].hosts.push({ mac: 'd0:0d:0a:01:02:04', ip: '10.1.2.4', hostname: 'i-9' });
    changed[1].hosts.shift();
    changed[1].gateway = '10.1.2.30';
    changed[1].dns = [];
    const f = renderDnsmasq(changed, { stateDir: DIR });
    expect(f.config).toBe(base.config);
    expect(f.hosts).not.toBe(base.hosts);
    expect(f.opts).toBe(
      '# Written by eucanet; edits are overwritten.\n' +
        "# Each network's router and DNS, by its range's tag. Re-read on SIGHUP.\n" +
        'tag:net-10.1.2.0,option:router,10.1.2.30\n' +
        'tag:net-10.1.2.32,option:router,10.1.2.33\n' +
        'tag:net-10.1.2.32,option:dns-server,192.168.32.1\n',
    );
  });

  it('changes the main config when a network, its interface or its lease time changes', () => {
    const base = renderDnsmasq(seedNetworks(), { stateDir: DIR }).config;
    const fewer = seedNetworks().slice(1);
    expect(renderDnsmasq(fewer, { stateDir: DIR }).config).not.toBe(base);
    const lease = seedNetworks();
    lease[0].leaseTime = 'infinite';
    expect(renderDnsmasq(lease, { stateDir: DIR }).config).toMatch(/^dhcp-range=set:net-10\.1\.2\.32,10\.1\.2\.32,static,255\.255\.255\.224,infinite$/m);
  });

  it('serves several networks on one interface (MANAGED-NOVLAN: one bridge), listing it once', () => {
    const nets = seedNetworks();
    nets[0].interface = 'eucabr10';
    const f = renderDnsmasq(nets, { stateDir: DIR });
    expect(f.config.match(/^interface=.*$/gm)).toEqual(['interface=eucabr10']);
    expect(f.config.match(/^dhcp-range=.*$/gm)).toHaveLength(2);
  });

  it('renders a network without hosts or DNS', () => {
    const f = renderDnsmasq([{ interface: 'br0', subnet: '192.168.0.0/24', gateway: '192.168.0.254', hosts: [] }], { stateDir: '/tmp/x' });
    expect(f.config).toMatch(/^dhcp-range=set:net-192\.168\.0\.0,192\.168\.0\.0,static,255\.255\.255\.0,43200$/m);
    expect(f.config).toMatch(/^dhcp-lease-max=256$/m);
    expect(f.hosts).toBe(
      '# Written by eucanet; edits are overwritten.\n# One static lease per instance: MAC,address[,hostname]. Re-read on SIGHUP.\n# 192.168.0.0/24 on br0\n',
    );
    expect(f.opts.split('\n').filter((l) => !l.startsWith('#') && l)).toEqual(['tag:net-192.168.0.0,option:router,192.168.0.254']);
  });

  it('puts every file in the state directory', () => {
    expect(dnsmasqPaths('/run/eucanet/host/dnsmasq')).toEqual({
      dir: '/run/eucanet/host/dnsmasq',
      config: '/run/eucanet/host/dnsmasq/dnsmasq.conf',
      hosts: '/run/eucanet/host/dnsmasq/hosts',
      hostsDir: '/run/eucanet/host/dnsmasq/hosts.d',
      opts: '/run/eucanet/host/dnsmasq/opts',
      leases: '/run/eucanet/host/dnsmasq/leases',
      pid: '/run/eucanet/host/dnsmasq/dnsmasq.pid',
      log: '/run/eucanet/host/dnsmasq/dnsmasq.log',
      loaded: '/run/eucanet/host/dnsmasq/loaded',
    });
  });
});

describe('dhcpNetworksOf (an allocated MANAGED state)', () => {
  it("gives each group a network on eucabr<vlan> with its instances, and the seed's 10.1.2.2", () => {
    const state = allocate({
      mode: 'MANAGED',
      subnet: '10.1.0.0/16',
      addrsPerNet: 32,
      dns: '192.168.32.1',
      cc: { publicInterface: 'eth0', privateInterface: 'eth1' },
      nodes: { nc1: { privateInterface: 'eth0' } },
      groups: [
        { owner: 'admin', name: 'default', vlan: 10, subnet: '10.1.2.0/27' },
        { owner: 'admin', name: 'web', vlan: 11 },
      ],
      instances: [
        { id: 'i-1', group: 'admin/default', node: 'nc1' },
        { id: 'i-2', group: 'admin/default', node: 'nc1' },
        { id: 'i_3', group: 'admin/web', node: 'nc1' },
      ],
    });
    const nets = dhcpNetworksOf(state);
    const [a, b] = state.groups;
    expect(a.subnet).toBe('10.1.2.0/27');
    expect(nets.map((n) => [n.interface, n.subnet, n.gateway, n.dns])).toEqual([
      ['eucabr10', '10.1.2.0/27', '10.1.2.1', ['192.168.32.1']],
      ['eucabr11', b.subnet, b.subnet.replace(/\.(\d+)\/27$/, (_, x) => `.${+x + 1}`), ['192.168.32.1']],
    ]);
    expect(nets[0].hosts[0]).toEqual({ mac: 'd0:0d:0a:01:02:02', ip: '10.1.2.2', hostname: 'i-1' });
    expect(nets[0].hosts).toHaveLength(2);
    // "i_3" is not a DNS label: the host has no hostname.
    expect(nets[1].hosts).toEqual([{ mac: state.instances[2].mac, ip: state.instances[2].privateIp }]);
    expect(() => renderDnsmasq(nets, { stateDir: DIR })).not.toThrow();
  });
});
