// Bad DHCP input is refused before any file is written, with a ValidationError
// that names the field and the value.
import { closeSync, existsSync, openSync, statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DhcpServer, normalizeNetworks, renderDnsmasq, type DhcpNetwork } from '../../src/dhcp/index.js';
import { ValidationError } from '../../src/errors.js';

const good = (): DhcpNetwork[] => [
  {
    interface: 'eucabr10',
    subnet: '10.1.2.0/27',
    gateway: '10.1.2.1',
    dns: ['192.168.32.1'],
    hosts: [
      { mac: 'd0:0d:0a:01:02:02', ip: '10.1.2.2', hostname: 'i-1' },
      { mac: 'd0:0d:0a:01:02:03', ip: '10.1.2.3', hostname: 'i-2' },
    ],
  },
  {
    interface: 'eucabr11',
    subnet: '10.1.2.32/27',
    gateway: '10.1.2.33',
    hosts: [{ mac: 'd0:0d:0a:01:02:22', ip: '10.1.2.34', hostname: 'i-3' }],
  },
];

function refusal(edit: (n: any[]) => unknown): ValidationError {
  const nets: any[] = good();
  const replaced = edit(nets);
  try {
    normalizeNetworks(replaced === undefined ? nets : replaced);
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationError);
    return err as ValidationError;
  }
  throw new Error('expected a ValidationError');
}

// One case a line: a table, kept as one.
// prettier-ignore
const cases: Array<[string, (n: any[]) => unknown, string, unknown, RegExp]> = [
  ['networks not an array', () => ({}), 'networks', {}, /array/],
  ['network not an object', (n) => { n[0] = 'eucabr10'; }, 'networks[0]', 'eucabr10', /network object/],
  ['unknown network field', (n) => { n[1].router = '10.1.2.33'; }, 'networks[1].router', '10.1.2.33', /unknown field/],
  ['missing interface', (n) => { delete n[0].interface; }, 'networks[0].interface', undefined, /interface name/],
  ['interface too long', (n) => { n[0].interface = 'eucabr1234567890'; }, 'networks[0].interface', 'eucabr1234567890', /1-15/],
  ['interface with a comma', (n) => { n[0].interface = 'br0,lo'; }, 'networks[0].interface', 'br0,lo', /interface name/],
  ['interface with a newline', (n) => { n[0].interface = 'br0\nport=53'; }, 'networks[0].interface', 'br0\nport=53', /interface name/],
  ['subnet not a CIDR', (n) => { n[0].subnet = '10.1.2.0'; }, 'networks[0].subnet', '10.1.2.0', /prefix/],
  ['subnet with host bits', (n) => { n[0].subnet = '10.1.2.1/27'; }, 'networks[0].subnet', '10.1.2.1/27', /host bits/],
  ['subnet /31', (n) => { n[0].subnet = '10.1.2.0/31'; }, 'networks[0].subnet', '10.1.2.0/31', /1-30/],
  ['subnet IPv6', (n) => { n[0].subnet = 'fd00::/64'; }, 'networks[0].subnet', 'fd00::/64', /IPv4/],
  ['overlapping subnets', (n) => { n[1].subnet = '10.1.2.0/26'; n[1].gateway = '10.1.2.62'; n[1].hosts = []; }, 'networks[1].subnet', '10.1.2.0/26', /overlaps networks\[0\]\.subnet 10\.1\.2\.0\/27/],
  ['gateway outside', (n) => { n[0].gateway = '10.1.2.33'; }, 'networks[0].gateway', '10.1.2.33', /not inside the subnet 10\.1\.2\.0\/27/],
  ['gateway is the network address', (n) => { n[0].gateway = '10.1.2.0'; }, 'networks[0].gateway', '10.1.2.0', /network address/],
  ['gateway is the broadcast address', (n) => { n[0].gateway = '10.1.2.31'; }, 'networks[0].gateway', '10.1.2.31', /broadcast/],
  ['gateway not an address', (n) => { n[0].gateway = 'gw'; }, 'networks[0].gateway', 'gw', /IPv4/],
  ['dns not an array', (n) => { n[0].dns = '8.8.8.8'; }, 'networks[0].dns', '8.8.8.8', /array/],
  ['dns entry bad', (n) => { n[0].dns = ['8.8.8.8', '8.8.8']; }, 'networks[0].dns[1]', '8.8.8', /IPv4/],
  ['lease time too short', (n) => { n[0].leaseTime = 60; }, 'networks[0].leaseTime', 60, /at least 120/],
  ['lease time as text', (n) => { n[0].leaseTime = '12h'; }, 'networks[0].leaseTime', '12h', /seconds/],
  ['lease time fractional', (n) => { n[0].leaseTime = 600.5; }, 'networks[0].leaseTime', 600.5, /whole number/],
  ['hosts missing', (n) => { delete n[1].hosts; }, 'networks[1].hosts', undefined, /array/],
  ['host not an object', (n) => { n[0].hosts[1] = 'd0:0d:0a:01:02:03'; }, 'networks[0].hosts[1]', 'd0:0d:0a:01:02:03', /host object/],
  ['unknown host field', (n) => { n[0].hosts[0].name = 'x'; }, 'networks[0].hosts[0].name', 'x', /unknown field/],
  ['MAC malformed', (n) => { n[0].hosts[1].mac = 'd0:0d:0a:01:02'; }, 'networks[0].hosts[1].mac', 'd0:0d:0a:01:02', /MAC/],
  ['MAC with dashes', (n) => { n[0].hosts[1].mac = 'd0-0d-0a-01-02-03'; }, 'networks[0].hosts[1].mac', 'd0-0d-0a-01-02-03', /MAC/],
  ['MAC multicast', (n) => { n[0].hosts[1].mac = '01:00:5e:01:02:03'; }, 'networks[0].hosts[1].mac', '01:00:5e:01:02:03', /multicast/],
  ['MAC all zero', (n) => { n[0].hosts[1].mac = '00:00:00:00:00:00'; }, 'networks[0].hosts[1].mac', '00:00:00:00:00:00', /all-zero/],
  ['MAC duplicate (other case, other network)', (n) => { n[1].hosts[0].mac = 'D0:0D:0A:01:02:02'; }, 'networks[1].hosts[0].mac', 'D0:0D:0A:01:02:02', /duplicate MAC: also at networks\[0\]\.hosts\[0\]\.mac/],
  ['IP outside the subnet', (n) => { n[0].hosts[1].ip = '10.1.2.34'; }, 'networks[0].hosts[1].ip', '10.1.2.34', /not inside the subnet 10\.1\.2\.0\/27/],
  ['IP is the gateway', (n) => { n[0].hosts[1].ip = '10.1.2.1'; }, 'networks[0].hosts[1].ip', '10.1.2.1', /gateway/],
  ['IP is the network address', (n) => { n[0].hosts[1].ip = '10.1.2.0'; }, 'networks[0].hosts[1].ip', '10.1.2.0', /network address/],
  ['IP is the broadcast address', (n) => { n[0].hosts[1].ip = '10.1.2.31'; }, 'networks[0].hosts[1].ip', '10.1.2.31', /broadcast/],
  ['IP duplicate', (n) => { n[0].hosts[1].ip = '10.1.2.2'; }, 'networks[0].hosts[1].ip', '10.1.2.2', /duplicate address: also at networks\[0\]\.hosts\[0\]\.ip/],
  ['IP not an address', (n) => { n[0].hosts[1].ip = 10; }, 'networks[0].hosts[1].ip', 10, /IPv4/],
  ['hostname with a dot', (n) => { n[0].hosts[1].hostname = 'i-2.example'; }, 'networks[0].hosts[1].hostname', 'i-2.example', /DNS label/],
  ['hostname with a comma', (n) => { n[0].hosts[1].hostname = 'a,b'; }, 'networks[0].hosts[1].hostname', 'a,b', /DNS label/],
  ['hostname too long', (n) => { n[0].hosts[1].hostname = 'x'.repeat(64); }, 'networks[0].hosts[1].hostname', 'x'.repeat(64), /1-63/],
  ['hostname duplicate (other case)', (n) => { n[1].hosts[0].hostname = 'I-1'; }, 'networks[1].hosts[0].hostname', 'I-1', /duplicate hostname \(dnsmasq compares hostnames without case\)/],
  // dnsmasq reads these fields of a hosts line as keywords or lease times, not names.
  ['hostname "ignore"', (n) => { n[0].hosts[1].hostname = 'ignore'; }, 'networks[0].hosts[1].hostname', 'ignore', /"ignore this host"/],
  ['hostname "infinite"', (n) => { n[0].hosts[1].hostname = 'infinite'; }, 'networks[0].hosts[1].hostname', 'infinite', /lease time/],
  ['hostname all digits', (n) => { n[0].hosts[1].hostname = '1234'; }, 'networks[0].hosts[1].hostname', '1234', /lease time/],
  ['hostname "60m"', (n) => { n[0].hosts[1].hostname = '60m'; }, 'networks[0].hosts[1].hostname', '60m', /lease time/],
  ['hostname "2W"', (n) => { n[0].hosts[1].hostname = '2W'; }, 'networks[0].hosts[1].hostname', '2W', /lease time/],
];

describe('normalizeNetworks refuses bad input, naming field and value', () => {
  it.each(cases)('%s', (_name, edit, field, value, reason) => {
    const err = refusal(edit);
    expect(err.field).toBe(field);
    expect(err.value).toEqual(value);
    expect(err.message).toMatch(reason);
    expect(err.message).toContain(field);
  });

  it('accepts the good input and canonicalises it', () => {
    const nets = normalizeNetworks(good());
    expect(nets[0]).toMatchObject({
      interface: 'eucabr10',
      tag: 'net-10.1.2.0',
      network: '10.1.2.0',
      prefix: 27,
      netmask: '255.255.255.224',
      size: 32,
      leaseTime: 43200,
    });
  });

  it('renderDnsmasq validates too', () => {
    const nets: any[] = good();
    nets[0].hosts[0].ip = '10.9.9.9';
    expect(() => renderDnsmasq(nets, { stateDir: '/tmp/x' })).toThrow(/networks\[0\]\.hosts\[0\]\.ip "10\.9\.9\.9": not inside/);
  });

  it('refuses a state directory dnsmasq could not read from its config', () => {
    for (const dir of ['relative/dir', '/tmp/with space', '/tmp/a,b', '/tmp/#x', '/tmp/x\nport=53']) {
      expect(() => renderDnsmasq(good(), { stateDir: dir })).toThrow(ValidationError);
    }
  });
});

describe('DhcpServer options', () => {
  it('defaults the state directory per namespace', () => {
    expect(new DhcpServer({ netns: 'cc' }).paths.dir).toBe('/run/eucanet/cc/dnsmasq');
    expect(new DhcpServer().paths.dir).toBe('/run/eucanet/host/dnsmasq');
  });

  it('refuses bad namespace names and missing namespace files', () => {
    expect(() => new DhcpServer({ netns: '../x' })).toThrow(ValidationError);
    expect(() => new DhcpServer({ netns: 'a b' })).toThrow(/invalid netns "a b"/);
    expect(() => new DhcpServer({ netns: '/nonexistent/ns' })).toThrow(/invalid netns "\/nonexistent\/ns": no such namespace file/);
    expect(() => new DhcpServer({ netns: -1 })).toThrow(/invalid netns -1/);
    expect(new DhcpServer({ netns: '/proc/self/ns/net', stateDir: '/tmp/d' }).paths.config).toBe('/tmp/d/dnsmasq.conf');
  });

  it('a namespace given as a path or a descriptor gets a state directory named after the namespace, the same for both', () => {
    const ino = statSync('/proc/self/ns/net').ino;
    expect(new DhcpServer({ netns: '/proc/self/ns/net' }).paths.dir).toBe(`/run/eucanet/netns-${ino}/dnsmasq`);
    const fd = openSync('/proc/self/ns/net', 'r');
    try {
      const s = new DhcpServer({ netns: fd });
      expect(s.paths.dir).toBe(`/run/eucanet/netns-${ino}/dnsmasq`);
      expect(s.netns).toBe(fd);
    } finally {
      closeSync(fd);
    }
    // /run/netns/NAME is the namespace NAME.
    expect(new DhcpServer({ netns: '/run/netns/cc' }).paths.dir).toBe('/run/eucanet/cc/dnsmasq');
  });

  it('update() refuses bad input before touching anything', async () => {
    const s = new DhcpServer({ stateDir: '/nonexistent/never-created' });
    const bad = s.update([{ interface: 'eucabr10', subnet: '10.1.2.0/27', gateway: '10.1.2.1', hosts: [{ mac: 'nope', ip: '10.1.2.2' }] }]);
    await expect(bad).rejects.toThrow(ValidationError);
    await expect(bad).rejects.toThrow(/networks\[0\]\.hosts\[0\]\.mac "nope"/);
    expect(existsSync('/nonexistent')).toBe(false);
  });
});
