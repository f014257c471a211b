// The CC's DHCP between two applies (managed/dhcp-delta.ts): which hosts were
// added and removed when only hosts changed, and the added hosts checked as a
// full plan would check them, fields named as in the whole list.
import { describe, expect, it } from 'vitest';
import { DhcpValidationError, type DhcpNetwork } from '../../src/dhcp/index.js';
import { checkAdded, hostChangeOf } from '../../src/managed/dhcp-delta.js';

const host = (k: number, mac = `d0:0d:0a:01:02:${k.toString(16).padStart(2, '0')}`) => ({ mac, ip: `10.1.2.${k}`, hostname: `i-${k}` });
const net = (hosts: DhcpNetwork['hosts'], extra: Partial<DhcpNetwork> = {}): DhcpNetwork => ({
  interface: 'eucabr10',
  subnet: '10.1.2.0/24',
  gateway: '10.1.2.1',
  dns: ['192.168.32.1'],
  hosts,
  ...extra,
});
const many = Array.from({ length: 200 }, (_, k) => host(k + 2));

describe('hostChangeOf', () => {
  it('names the hosts added, removed and changed (a changed one in both), and nothing when the hosts are the same', () => {
    expect(hostChangeOf([net(many)], [net([...many])])).toEqual({ add: [], del: [] });
    expect(hostChangeOf([net(many)], [net([...many, host(250)])])).toEqual({ add: [host(250)], del: [] });
    const without = many.filter((h) => h.ip !== '10.1.2.50');
    expect(hostChangeOf([net(many)], [net(without)])).toEqual({ add: [], del: [host(50)] });
    const changed = many.map((h) => (h.ip === '10.1.2.7' ? { ...h, mac: 'd0:0d:0a:01:09:99' } : h));
    expect(hostChangeOf([net(many)], [net(changed)])).toEqual({ add: [{ ...host(7), mac: 'd0:0d:0a:01:09:99' }], del: [host(7)] });
  });

  it('is undefined when anything but hosts differs: a network added, its router, DNS, interface or lease time', () => {
    expect(hostChangeOf([net(many)], [net(many), net([], { interface: 'eucabr11', subnet: '10.1.3.0/24', gateway: '10.1.3.1' })])).toBeUndefined();
    expect(hostChangeOf([net(many)], [net(many, { gateway: '10.1.2.254' })])).toBeUndefined();
    expect(hostChangeOf([net(many)], [net(many, { dns: [] })])).toBeUndefined();
    expect(hostChangeOf([net(many)], [net(many, { interface: 'eucabr12' })])).toBeUndefined();
    expect(hostChangeOf([net(many)], [net(many, { leaseTime: 600 })])).toBeUndefined();
  });
});

describe('checkAdded', () => {
  const problems = (nets: DhcpNetwork[], add: DhcpNetwork['hosts']) => {
    try {
      checkAdded(nets, add);
      return [];
    } catch (err) {
      expect(err).toBeInstanceOf(DhcpValidationError);
      return (err as DhcpValidationError).problems.map((p) => p.message);
    }
  };

  it('accepts a good new host, and names a bad one by its place in the whole list', () => {
    const good = host(250);
    expect(problems([net([...many, good])], [good])).toEqual([]);
    const outside = { mac: 'd0:0d:0a:01:03:01', ip: '10.1.3.5', hostname: 'i-x' };
    expect(problems([net([...many, outside])], [outside])).toEqual([
      expect.stringMatching(/^invalid networks\[0\]\.hosts\[200\]\.ip "10\.1\.3\.5": not inside the subnet/),
    ]);
    const gateway = { mac: 'd0:0d:0a:01:03:02', ip: '10.1.2.1' };
    expect(problems([net([...many, gateway])], [gateway])).toEqual([expect.stringMatching(/hosts\[200\]\.ip "10\.1\.2\.1": is the gateway address/)]);
    const multicast = { mac: '01:00:5e:00:00:01', ip: '10.1.2.251' };
    expect(problems([net([...many, multicast])], [multicast])).toEqual([expect.stringMatching(/hosts\[200\]\.mac .*multicast/)]);
  });

  it('refuses an added host whose MAC, address or hostname another host has', () => {
    const sameMac = { mac: many[3].mac, ip: '10.1.2.251', hostname: 'i-new' };
    expect(problems([net([...many, sameMac])], [sameMac])).toEqual([
      expect.stringMatching(/hosts\[200\]\.mac .*duplicate mac: also at networks\[0\]\.hosts\[3\]\.mac/),
    ]);
    const sameName = { mac: 'd0:0d:0a:01:03:03', ip: '10.1.2.252', hostname: 'I-9' };
    expect(problems([net([...many, sameName])], [sameName])).toEqual([
      expect.stringMatching(/hosts\[200\]\.hostname "I-9": duplicate hostname: also at networks\[0\]\.hosts\[7\]\.hostname/),
    ]);
  });
});
