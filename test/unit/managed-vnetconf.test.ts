import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { allocate, mergeSettings, parseVnetConf } from '../../src/managed/index.js';
import { ValidationError } from '../../src/errors.js';
import { maskToPrefix } from '../../src/util/ip.js';

const example = (f: string) => readFileSync(new URL(`../../examples/${f}`, import.meta.url), 'utf8');

describe('eucalyptus.conf VNET_* keys', () => {
  test('the example conf gives the seed network settings', () => {
    const { settings, warnings } = parseVnetConf(example('eucalyptus.conf'));
    expect(settings).toEqual({
      mode: 'MANAGED',
      subnet: '10.1.0.0/16',
      addrsPerNet: 32,
      publicIps: ['192.168.32.200-192.168.32.250'],
      dns: '192.168.32.1',
      metadata: '192.168.32.10:8773',
      macPrefix: 'd0:0d',
      cc: { publicInterface: 'eth0', privateInterface: 'eth1' },
    });
    expect(warnings).toEqual(['eucalyptus.conf:17: VNET_DHCPDAEMON is not used by eucanet (ignored)']);
  });

  test('conf + groups JSON allocates exactly as examples/seed.json', () => {
    const { settings } = parseVnetConf(example('eucalyptus.conf'));
    const merged = mergeSettings(JSON.parse(example('seed-groups.json')), settings, 'eucalyptus.conf');
    const a = allocate(merged);
    const b = allocate(JSON.parse(example('seed.json')));
    expect({ ...a, $schema: undefined }).toEqual({ ...b, $schema: undefined });
  });

  test('quoting, comments, export, blank lines; non-VNET keys ignored silently', () => {
    const text = [
      '# comment',
      '',
      'EUCALYPTUS="/"',
      '  export VNET_MODE=MANAGED-NOVLAN   # trailing comment',
      "VNET_SUBNET='172.16.0.0'",
      'VNET_NETMASK="255.255.240.0" # /20',
      'VNET_ADDRSPERNET=64',
      'VNET_PUBLICIPS="10.9.0.5  10.9.0.8-10.9.0.9\t10.9.1.0/30"',
      'VNET_DNS=""',
      'VNET_FOO="bar"',
      'VNET_ADDRSPERNET=128',
    ].join('\r\n');
    const { settings, warnings } = parseVnetConf(text, 'cc.conf');
    expect(settings).toEqual({
      mode: 'MANAGED-NOVLAN',
      subnet: '172.16.0.0/20',
      addrsPerNet: 128,
      publicIps: ['10.9.0.5', '10.9.0.8-10.9.0.9', '10.9.1.0/30'],
    });
    expect(warnings).toEqual(['cc.conf:11: VNET_ADDRSPERNET is set again; this later value wins', 'cc.conf:10: unknown key VNET_FOO (ignored)']);
  });

  test.each([
    ['VNET_MODE="SYSTEM"', 'eucalyptus.conf:1 VNET_MODE', /MANAGED and MANAGED-NOVLAN only/],
    ['VNET_SUBNET="10.1.0.0"\nVNET_NETMASK="255.0.255.0"', 'eucalyptus.conf:2 VNET_NETMASK', /contiguous/],
    ['VNET_SUBNET="10.1.0.0"\nVNET_NETMASK="255.255.0"', 'eucalyptus.conf:2 VNET_NETMASK', /IPv/],
    ['VNET_SUBNET="10.1.0.0"', 'eucalyptus.conf VNET_NETMASK', /required with VNET_SUBNET/],
    ['VNET_NETMASK="255.255.0.0"', 'eucalyptus.conf VNET_SUBNET', /required with VNET_NETMASK/],
    ['VNET_SUBNET="net"\nVNET_NETMASK="255.255.0.0"', 'eucalyptus.conf:1 VNET_SUBNET', /IPv4 network address/],
    ['VNET_ADDRSPERNET="thirty-two"', 'eucalyptus.conf:1 VNET_ADDRSPERNET', /number/],
    ['VNET_CLOUDIP="clc.example"', 'eucalyptus.conf:1 VNET_CLOUDIP', /IPv4/],
    ['VNET_DNS="8.8.8.8 8.8.4.4"', 'eucalyptus.conf:1 VNET_DNS', /one IPv4/],
    ['\n\nVNET_MODE="MANAGED', 'eucalyptus.conf:3', /KEY="value"/],
    ['VNET_MODE="MANAGED" trailing', 'eucalyptus.conf:1', /KEY="value"/],
    ['this is not a conf line', 'eucalyptus.conf:1', /KEY="value"/],
  ])('%j is refused naming %s', (text, field, reason) => {
    let err: unknown;
    try {
      parseVnetConf(text);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).field).toBe(field);
    expect((err as ValidationError).message).toMatch(reason);
  });

  test('netmasks to prefixes', () => {
    expect(['0.0.0.0', '255.0.0.0', '255.255.0.0', '255.255.255.224', '255.255.255.255'].map((m) => maskToPrefix('m', m))).toEqual([0, 8, 16, 27, 32]);
    expect(() => maskToPrefix('m', '0.255.255.255')).toThrow(/contiguous/);
  });

  test('a setting in both the conf and the JSON must agree', () => {
    const doc = { subnet: '10.1.0.0/16', cc: { publicInterface: 'eth0', underlay: '10.0.0.1/24' } };
    expect(mergeSettings(doc, { subnet: '10.1.0.0/16', cc: { publicInterface: 'eth0', privateInterface: 'eth1' } }, 'c')).toEqual({
      subnet: '10.1.0.0/16',
      cc: { publicInterface: 'eth0', underlay: '10.0.0.1/24', privateInterface: 'eth1' },
    });
    expect(() => mergeSettings(doc, { subnet: '10.2.0.0/16' }, 'eucalyptus.conf')).toThrow(
      'invalid subnet "10.1.0.0/16": conflicts with eucalyptus.conf ("10.2.0.0/16")',
    );
    expect(() => mergeSettings(doc, { cc: { publicInterface: 'eth2' } }, 'c')).toThrow(/invalid cc.publicInterface "eth0": conflicts/);
  });
});
