// Rendering: batches as nft commands, elements, times, names, and rules whose
// expressions have no nft field name.
import { describe, expect, it } from 'vitest';
import { Batch, formatTime, parseElements, render, renderElements, renderRuleBody, rule, type NftSet } from '../../src/nft/index.js';
import { NlWriter } from '../../src/netlink/writer.js';
import { seedBatch } from '../fixtures/nft/rulesets.js';

describe('rendering', () => {
  it('renders the seed batch as nft commands', () => {
    expect(seedBatch().render()).toBe(`add table ip nat
add chain ip nat prerouting { type nat hook prerouting priority dstnat; policy accept; }
add chain ip nat postrouting { type nat hook postrouting priority srcnat; policy accept; }
add rule ip nat prerouting ip saddr 10.1.0.0/16 ip daddr 169.254.169.254 tcp dport 80 dnat to 169.254.169.254:8773
add rule ip nat prerouting ip daddr 192.168.32.200 dnat to 10.1.2.2
add rule ip nat prerouting ip daddr 192.168.32.201 dnat to 10.1.2.3
add rule ip nat postrouting ip saddr 10.1.2.2 ip daddr != 10.1.0.0/16 snat to 192.168.32.200
add rule ip nat postrouting ip saddr 10.1.2.3 ip daddr != 10.1.0.0/16 snat to 192.168.32.201
add rule ip nat postrouting ip saddr != 127.0.0.0/8 ip daddr != 10.1.0.0/16 masquerade
add table ip filter
add chain ip filter forward { type filter hook forward priority filter; policy drop; }
add chain ip filter admin-default
add rule ip filter forward ct state established,related accept
add rule ip filter forward ip daddr != 10.1.0.0/16 accept
add rule ip filter forward ip saddr 10.1.2.0/27 ip daddr 10.1.2.0/27 accept
add rule ip filter forward jump admin-default
add rule ip filter admin-default ip daddr 10.1.2.0/27 tcp dport 22 accept comment "authorize"
`);
  });

  it('renders every op kind', () => {
    const b = new Batch();
    const s: NftSet = { family: 'inet', table: 't', name: 'm', key: 'ipv4_addr', data: 'verdict', flags: ['interval'], timeout: 90_000, comment: 'x' };
    b.createTable({ family: 'inet', name: 't', flags: ['dormant'] });
    b.addSet(s);
    b.addElements(s, [['10.0.0.0/8', 'jump c'], { key: '192.168.1.1-192.168.1.9', data: 'drop', timeout: 1500 }]);
    b.deleteElements(s, ['10.0.0.0/8']);
    b.insertRule({ family: 'inet', table: 't', chain: 'c', exprs: rule().iifname('eth*').ip6Saddr('2001:db8::/32').counter() }, { position: 7n });
    b.replaceRule({ family: 'inet', table: 't', chain: 'c', handle: 9n, exprs: rule().l4proto('tcp').dnat('[2001:db8::1]:80') });
    b.deleteRule({ family: 'inet', table: 't', chain: 'c', handle: 9n });
    b.flushSet(s);
    b.deleteSet(s);
    b.flushChain({ family: 'inet', table: 't', name: 'c' });
    b.deleteChain({ family: 'inet', table: 't', name: 'c' });
    b.flushTable({ family: 'inet', name: 't' });
    expect(b.render().split('\n')).toEqual([
      'create table inet t { flags dormant; }',
      'add map inet t m { type ipv4_addr : verdict; flags interval; timeout 1m30s; comment "x"; }',
      'add element inet t m { 10.0.0.0/8 : jump c, 192.168.1.1-192.168.1.9 timeout 1s500ms : drop }',
      'delete element inet t m { 10.0.0.0/8 }',
      'insert rule inet t c position 7 iifname "eth*" ip6 saddr 2001:db8::/32 counter packets 0 bytes 0',
      'replace rule inet t c handle 9 meta l4proto tcp dnat ip6 to [2001:db8::1]:80',
      'delete rule inet t c handle 9',
      'flush map inet t m',
      'delete map inet t m',
      'flush chain inet t c',
      'delete chain inet t c',
      'flush table inet t',
      '',
    ]);
  });

  it('renders elements by type: prefixes, ranges, open ranges, concatenations', () => {
    const nets: NftSet = { family: 'ip', table: 't', name: 'n', key: 'ipv4_addr', flags: ['interval'] };
    const e = parseElements(nets, ['10.0.0.0/8', '10.0.0.1-10.0.0.9', '192.168.1.1', '250.0.0.0-255.255.255.255', '0.0.0.0/0']);
    expect(renderElements(nets, e)).toBe('{ 10.0.0.0/8, 10.0.0.1-10.0.0.9, 192.168.1.1, 250.0.0.0-255.255.255.255, 0.0.0.0/0 }');
    const cc: NftSet = { family: 'inet', table: 't', name: 'c', key: ['ipv4_addr', 'inet_proto', 'inet_service'] };
    expect(
      renderElements(
        cc,
        parseElements(cc, [
          ['1.2.3.4', 'tcp', 22],
          ['1.2.3.5', 17, '53'],
        ]),
      ),
    ).toBe('{ 1.2.3.4 . tcp . 22, 1.2.3.5 . udp . 53 }');
    const ether: NftSet = { family: 'bridge', table: 't', name: 'e', key: 'ether_addr' };
    expect(renderElements(ether, parseElements(ether, ['0:11:22:33:44:AA']))).toBe('{ 00:11:22:33:44:aa }');
    const v6: NftSet = { family: 'ip6', table: 't', name: 'v', key: 'ipv6_addr', data: 'ipv6_addr' };
    expect(renderElements(v6, parseElements(v6, [['2001:0db8:0:0:0:0:0:1', '::ffff:10.0.0.1']]))).toBe('{ 2001:db8::1 : ::ffff:a00:1 }');
  });

  it('formats times like nft', () => {
    expect(formatTime(3_600_000)).toBe('1h');
    expect(formatTime(600_000)).toBe('10m');
    expect(formatTime(90_061_500)).toBe('1d1h1m1s500ms');
  });

  it('renders loads it has no field name for in raw payload syntax, and quotes odd names', () => {
    const body = renderRuleBody('ip', [
      { kind: 'payload', base: 'network', offset: 8, len: 1, dreg: 1 },
      { kind: 'cmp', sreg: 1, op: 'lt', data: Buffer.from([5]) },
      { kind: 'meta', key: 'mark', dreg: 1 },
      { kind: 'bitwise', sreg: 1, dreg: 1, len: 4, mask: Buffer.from('ff000000', 'hex'), xor: Buffer.alloc(4) },
      { kind: 'cmp', sreg: 1, op: 'eq', data: Buffer.from('01000000', 'hex') },
      { kind: 'immediate', dreg: 0, verdict: { code: 'jump', chain: '1st chain' } },
    ]);
    expect(body).toBe('@nh,64,8 < 0x05 meta mark & 0xff000000 == 0x01000000 jump "1st chain"');
    const uid = renderRuleBody('inet', [
      { kind: 'meta', key: 'skuid', dreg: 1 },
      { kind: 'cmp', sreg: 1, op: 'eq', data: Buffer.from('e8030000', 'hex') },
      { kind: 'immediate', dreg: 0, verdict: { code: 'accept' } },
    ]);
    expect(uid).toBe('meta skuid 1000 accept');
  });

  it('renders single objects as the commands that create them', () => {
    expect(render({ family: 'ip', name: 'nat' })).toBe('add table ip nat');
    expect(render({ family: 'ip', table: 'nat', name: 'pre', type: 'nat', hook: 'prerouting', priority: -100, policy: 'accept' })).toBe(
      'add chain ip nat pre { type nat hook prerouting priority dstnat; policy accept; }',
    );
    expect(render({ family: 'inet', table: 'f', name: 'svc', key: ['ipv4_addr', 'inet_service'], flags: ['interval'] })).toBe(
      'add set inet f svc { type ipv4_addr . inet_service; flags interval; }',
    );
    const r = new Batch().addRule({ family: 'inet', table: 'f', chain: 'c', exprs: rule().ipSaddr('10.0.0.0/8').udpDport(53).accept(), comment: 'dns' });
    const op = r.ops[0];
    expect(op.kind === 'rule' && render(op.rule)).toBe('add rule inet f c ip saddr 10.0.0.0/8 udp dport 53 accept comment "dns"');
  });

  it('ops work as netlink Requests: describe, encode, attrName', () => {
    const b = new Batch().addRule({ family: 'ip', table: 'nat', chain: 'pre', exprs: rule().ipDaddr('192.168.32.200').dnat('10.1.2.2') });
    const req = b.request(0);
    expect(req.describe()).toBe('add rule ip nat pre ip daddr 192.168.32.200 dnat to 10.1.2.2');
    const w = new NlWriter();
    req.encode(w, 7);
    expect(w.bytes().readUInt32LE(8)).toBe(7);
    expect(req.attrName!([4, 1, 2, 3])).toBe('NFTA_RULE_EXPRESSIONS/NFTA_LIST_ELEM/NFTA_EXPR_DATA/3');
    expect(req.attrName!([2])).toBe('NFTA_RULE_CHAIN');
  });
});
