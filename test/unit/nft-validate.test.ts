// Bad input is refused with a ValidationError naming the field and the
// value, when the builder method or batch method is called: before anything
// is encoded, let alone sent.
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.js';
import type { NetlinkConnection } from '../../src/netlink/socket.js';
import { Batch, rule, type NftSet } from '../../src/nft/index.js';

function refused(fn: () => unknown, field: string | RegExp, value?: unknown): ValidationError {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(ValidationError);
  const v = err as ValidationError;
  if (typeof field === 'string') expect(v.field).toBe(field);
  else expect(v.field).toMatch(field);
  if (value !== undefined) expect(v.value).toEqual(value);
  expect(v.message).toContain(typeof v.value === 'bigint' ? String(v.value) : (JSON.stringify(v.value) ?? String(v.value)));
  return v;
}

const map: NftSet = { family: 'ip', table: 'nat', name: 'pubmap', key: 'ipv4_addr', data: 'ipv4_addr' };
const cidrs: NftSet = { family: 'ip', table: 'f', name: 'nets', key: 'ipv4_addr', flags: ['interval'] };
const concat: NftSet = { family: 'inet', table: 'f', name: 'svc', key: ['ipv4_addr', 'inet_proto', 'inet_service'] };

describe('validation', () => {
  it('malformed CIDRs and addresses', () => {
    refused(() => rule().ipSaddr('10.1.0.0/33'), 'ip saddr', '10.1.0.0/33');
    refused(() => rule().ipSaddr('10.1.0.1/16'), 'ip saddr', '10.1.0.1/16');
    refused(() => rule().ipSaddr('10.1.0/16'), 'ip saddr', '10.1.0/16');
    refused(() => rule().ipDaddr('300.1.2.3'), 'ip daddr', '300.1.2.3');
    refused(() => rule().ip6Daddr('2001:db8::/129'), 'ip6 daddr');
    refused(() => rule().ipDaddr('10.0.0.9-10.0.0.1'), 'ip daddr');
    refused(() => rule().dnat('10.1.2'), 'dnat to', '10.1.2');
    refused(() => rule().etherSaddr('00:11:22:33:44'), 'ether saddr');
  });

  it('ports outside 0-65535', () => {
    refused(() => rule().tcpDport(65536), 'tcp dport', 65536);
    refused(() => rule().tcpDport(-1), 'tcp dport', -1);
    refused(() => rule().udpSport('http'), 'udp sport', 'http');
    refused(() => rule().tcpDport('1000-70000'), 'tcp dport');
    refused(() => rule().tcpDport(80).dnat('10.0.0.1', 99999), 'dnat to port', 99999);
    refused(() => rule().tcpDport(80).redirect(0x10000), 'redirect to', 0x10000);
  });

  it('ports need a transport protocol first', () => {
    refused(() => rule().dport(22), 'dport');
    refused(() => rule().dnat('10.0.0.1:80'), 'dnat to');
    refused(() => rule().masquerade({ ports: '1024-2000' }), 'masquerade to');
    expect(() => rule().l4proto('udp').dport(53)).not.toThrow();
  });

  it('chain, table and set names', () => {
    refused(() => rule().jump('bad name'), 'chain', 'bad name');
    refused(() => rule().goto(''), /chain|verdict/);
    refused(() => new Batch().addChain({ family: 'ip', table: 'filter', name: 'a"b' }), 'chain', 'a"b');
    refused(() => new Batch().addTable({ family: 'ip', name: 'x'.repeat(256) }), 'table');
    refused(() => new Batch().addTable({ family: 'ipx' as never, name: 'x' }), 'family', 'ipx');
    refused(() => rule().ipSaddr('@bad set'), 'ip saddr');
    refused(() => rule().dnatMap('pubmap'), 'dnat map', 'pubmap');
  });

  it('base chains: type, hook for the family, priority, policy, device', () => {
    const b = new Batch();
    const c = { family: 'ip', table: 't', name: 'c' } as const;
    refused(() => b.addChain({ ...c, type: 'mangle' as never, hook: 'input', priority: 0 }), 'chain c type', 'mangle');
    refused(() => b.addChain({ ...c, type: 'filter', hook: 'ingress', priority: 0 }), 'chain c hook', 'ingress');
    refused(() => b.addChain({ ...c, type: 'filter', hook: 'input', priority: 1.5 }), 'chain c priority', 1.5);
    refused(() => b.addChain({ ...c, type: 'filter', hook: 'input', priority: 0, policy: 'reject' as never }), 'chain c policy');
    refused(() => b.addChain({ family: 'netdev', table: 't', name: 'c', type: 'filter', hook: 'ingress', priority: 0 }), 'chain c device');
  });

  it('wrong key type for a set element, and other element mistakes', () => {
    const b = new Batch();
    refused(() => b.addElements(map, [['2001:db8::1', '10.1.2.2']]), 'set pubmap element #0 key', '2001:db8::1');
    refused(() => b.addElements(map, [['192.168.32.200', 'eth0']]), 'set pubmap element #0 value', 'eth0');
    refused(() => b.addElements(map, ['192.168.32.200']), 'set pubmap element #0 value');
    refused(() => b.addElements(cidrs, ['10.0.0.0/8', '10.1.0.0/33']), 'set nets element #1 key', '10.1.0.0/33');
    refused(() => b.addElements(concat, [['1.2.3.4', 'tcp']]), 'set svc element #0 key');
    refused(() => b.addElements(concat, [['1.2.3.4', 'tcpx', 22]]), 'set svc element #0 key[1]', 'tcpx');
    refused(() => b.addElements(concat, [['1.2.3.4', 'tcp', 70000]]), 'set svc element #0 key[2]', 70000);
    refused(() => b.addElements({ ...cidrs, name: 'plain', flags: [] }, [{ key: '1.2.3.4', timeout: 1000 }]), 'set plain element #0 timeout');
    refused(() => b.addElements({ family: 'ip', table: 'f', name: 'unknown' }, ['1.2.3.4']), 'set', 'unknown');
    const vmap: NftSet = { family: 'inet', table: 'f', name: 'vm', key: 'ifname', data: 'verdict' };
    refused(() => b.addElements(vmap, [['eth0', 'jump']]), 'set vm element #0 value');
    refused(() => b.addElements(vmap, [['eth0', 'dance']]), 'set vm element #0 value', 'dance');
    refused(() => b.addElements(vmap, [['a-very-long-interface-name', 'accept']]), 'set vm element #0 key');
    expect(b.length).toBe(0);
  });

  it('set definitions', () => {
    const b = new Batch();
    const s = { family: 'ip', table: 't', name: 's' } as const;
    refused(() => b.addSet({ ...s, key: 'ipv5_addr' as never }), 'set s key', 'ipv5_addr');
    refused(() => b.addSet({ ...s, key: 'mark', flags: ['interval'] }), 'set s key', 'mark');
    refused(() => b.addSet({ ...s, key: 'ipv4_addr', flags: ['bogus' as never] }), 'set s flags', 'bogus');
    refused(() => b.addSet({ ...s, key: 'ipv4_addr', timeout: -5 }), 'set s timeout', -5);
    refused(() => b.addSet({ ...s, key: ['ipv6_addr', 'ipv6_addr', 'ipv6_addr', 'ipv6_addr', 'ipv6_addr'] }), 'set s key');
  });

  it('rules: protocol conflicts, families, handles', () => {
    refused(() => rule().ipSaddr('10.0.0.1').ip6Daddr('::1'), 'ip6 daddr');
    const b = new Batch();
    refused(() => b.addRule({ family: 'ip', table: 't', chain: 'c', exprs: rule().ip6Saddr('::1') }), 'rule', 'ipv6');
    refused(() => b.replaceRule({ family: 'ip', table: 't', chain: 'c', exprs: rule().accept() }), 'replaceRule handle');
    refused(() => b.deleteRule({ family: 'ip', table: 't', chain: 'c', handle: 0n }), 'deleteRule handle', 0n);
    refused(
      () => b.addRule({ family: 'ip', table: 't', chain: 'c', exprs: [{ kind: 'cmp', sreg: 99, op: 'eq', data: Buffer.from([1]) }] }),
      /expression #1 sreg/,
      99,
    );
    refused(() => b.addRule({ family: 'ip', table: 't', chain: 'c', exprs: [{ kind: 'bogus' } as never] }), /expression #1 kind/, 'bogus');
    refused(() => rule().comment('say "hi"'), 'comment');
    refused(() => rule().log({ level: 'loud' as never }), 'log level', 'loud');
    refused(() => rule().limit(10, { per: 'fortnight' as never }), 'limit per', 'fortnight');
    refused(() => rule().ctState('establishd'), 'ct state', 'establishd');
    expect(b.length).toBe(0);
  });

  it('nothing reaches the kernel: the failed call leaves the batch as it was', async () => {
    let sent = 0;
    const fake = {
      protocol: 12,
      nextSeq: () => 1,
      exchange: async () => {
        sent++;
        return Buffer.alloc(0);
      },
    } as unknown as NetlinkConnection;
    const b = new Batch(fake);
    b.addTable({ family: 'ip', name: 'nat' });
    expect(() => b.addRule({ family: 'ip', table: 'nat', chain: 'pre', exprs: rule().ipDaddr('192.168.32.300').dnat('10.1.2.2') })).toThrow(ValidationError);
    expect(b.length).toBe(1);
    expect(sent).toBe(0);
  });
});
