// Bad input: each case is one mutation of examples/seed.json, refused with a
// ValidationError that names the field path (and the value) in its message.
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { allocate, parseState, validateState, type Group, type Instance, type State } from '../../src/managed/index.js';
import { ValidationError } from '../../src/errors.js';

const seedText = readFileSync(new URL('../../examples/seed.json', import.meta.url), 'utf8');
type Doc = State & Record<string, unknown>;
type Case = [name: string, mutate: (s: Doc) => unknown, field: string, reason?: RegExp];

const g = (s: Doc, i: number) => s.groups![i];
const rule0 = (s: Doc, i = 1) => g(s, i).rules![0];
const inst = (s: Doc, i: number) => s.instances![i];
/** An interface seen as a plain record, to add a key the type does not allow. */
const loose = (o: object) => o as Record<string, unknown>;

// One case a line: a table, kept as one.
// prettier-ignore
const cases: Case[] = [
  // settings
  ['unknown mode', (s) => { (s).mode = 'STATIC' as never; }, 'mode', /MANAGED, MANAGED-NOVLAN/],
  ['missing subnet', (s) => { delete (s as Partial<Doc>).subnet; }, 'subnet', /required/],
  ['unknown top-level key', (s) => { s.vnetMode = 'MANAGED'; }, 'vnetMode', /not a known property/],
  ['subnet without prefix', (s) => { s.subnet = '10.1.0.0'; }, 'subnet', /prefix/],
  ['subnet not a network address', (s) => { s.subnet = '10.1.0.1/16'; }, 'subnet', /network address is 10.1.0.0\/16/],
  ['subnet prefix over 32', (s) => { s.subnet = '10.1.0.0/33'; }, 'subnet', /prefix length/],
  ['subnet malformed', (s) => { s.subnet = '10.1.0/16'; }, 'subnet'],
  ['subnet on loopback', (s) => { s.subnet = '127.1.0.0/16'; }, 'subnet', /loopback/],
  ['addrsPerNet not a power of two', (s) => { s.addrsPerNet = 48; }, 'addrsPerNet', /power of two from 16 to 2048/],
  ['addrsPerNet too small', (s) => { s.addrsPerNet = 8; }, 'addrsPerNet'],
  ['addrsPerNet too large', (s) => { s.addrsPerNet = 4096; }, 'addrsPerNet'],
  ['addrsPerNet a string', (s) => { s.addrsPerNet = '32' as never; }, 'addrsPerNet', /integer/],
  ['vlanRange below 1', (s) => { s.vlanRange = [0, 100]; }, 'vlanRange[0]', /1-4094/],
  ['vlanRange above 4094', (s) => { s.vlanRange = [10, 5000]; }, 'vlanRange[1]'],
  ['vlanRange reversed', (s) => { s.vlanRange = [20, 10]; }, 'vlanRange'],
  ['vlanRange of three', (s) => { s.vlanRange = [10, 20, 30] as never; }, 'vlanRange'],
  ['public IP malformed', (s) => { s.publicIps = ['192.168.32.300']; }, 'publicIps[0]'],
  ['public range reversed', (s) => { s.publicIps = ['192.168.32.250-192.168.32.200']; }, 'publicIps[0]', /ends before/],
  ['public entries overlapping', (s) => { s.publicIps!.push('192.168.32.210'); }, 'publicIps[1]', /overlaps publicIps\[0\]/],
  ['public CIDR overlapping the subnet', (s) => { s.publicIps = ['10.1.5.0/24']; }, 'publicIps[0]', /private subnet/],
  ['public CIDR with host bits', (s) => { s.publicIps = ['192.168.32.1/24']; }, 'publicIps[0]', /host bits/],
  ['public pool on multicast', (s) => { s.publicIps = ['224.0.0.1']; }, 'publicIps[0]', /multicast/],
  ['dns not an address', (s) => { s.dns = 'ns1.example'; }, 'dns'],
  ['metadata without port', (s) => { s.metadata = '192.168.32.10'; }, 'metadata', /ip:port/],
  ['metadata port out of range', (s) => { s.metadata = '192.168.32.10:70000'; }, 'metadata'],
  ['metadata inside the private subnet', (s) => { s.metadata = '10.1.0.5:8773'; }, 'metadata', /private subnet/],
  ['macPrefix of three bytes', (s) => { s.macPrefix = 'd0:0d:00'; }, 'macPrefix', /two bytes/],
  ['macPrefix multicast', (s) => { s.macPrefix = '01:00'; }, 'macPrefix', /multicast/],
  // hosts
  ['cc missing', (s) => { delete (s as Partial<Doc>).cc; }, 'cc', /required/],
  ['cc interface over 15 bytes', (s) => { s.cc!.publicInterface = 'averyverylongeth0'; }, 'cc.publicInterface', /17 bytes/],
  ['cc interface with a slash', (s) => { s.cc!.privateInterface = 'eth/1'; }, 'cc.privateInterface'],
  ['cc public and private the same NIC', (s) => { s.cc!.privateInterface = 'eth0'; }, 'cc.privateInterface'],
  ['node interface over 15 bytes', (s) => { s.nodes!.nc1.privateInterface = 'enp0s20f0u1u2u3u'; }, 'nodes.nc1.privateInterface'],
  ['node name with a space', (s) => { s.nodes!['nc 1'] = { privateInterface: 'eth0' }; }, 'nodes["nc 1"]', /not a valid name/],
  ['node key unknown', (s) => { loose(s.nodes!.nc1).publicInterface = 'eth1'; }, 'nodes.nc1.publicInterface'],
  ['vlan segmentation in MANAGED-NOVLAN', (s) => { s.mode = 'MANAGED-NOVLAN'; }, 'segmentation', /none/],
  ['no segmentation in MANAGED', (s) => { s.segmentation = 'none'; }, 'segmentation', /MANAGED-NOVLAN/],
  ['vxlan without a node underlay', (s) => { s.segmentation = 'vxlan'; delete s.nodes!.nc2.underlay; }, 'nodes.nc2.underlay', /underlay/],
  ['vxlan without the cc underlay', (s) => { s.segmentation = 'vxlan'; delete s.cc!.underlay; }, 'cc.underlay', /vxlan/],
  ['underlay is a network address', (s) => { s.cc!.underlay = '10.0.0.0/24'; }, 'cc.underlay', /network or broadcast/],
  ['underlay without prefix', (s) => { s.cc!.underlay = '10.0.0.1'; }, 'cc.underlay', /prefix/],
  ['underlay inside the private subnet', (s) => { s.nodes!.nc1.underlay = '10.1.200.1/24'; }, 'nodes.nc1.underlay', /private subnet/],
  ['underlay twice', (s) => { s.nodes!.nc2.underlay = '10.0.0.11/24'; }, 'nodes.nc2.underlay', /duplicate/],
  // groups
  ['vlan outside vlanRange', (s) => { g(s, 1).vlan = 5; }, 'groups[1].vlan', /vlanRange 10-4094/],
  ['vlan over 4094', (s) => { g(s, 1).vlan = 5000; }, 'groups[1].vlan', /1-4094/],
  ['duplicate vlan', (s) => { g(s, 1).vlan = 10; }, 'groups[1].vlan', /duplicate vlan: already used by groups\[0\]\.vlan/],
  ['VLAN device name over 15 bytes', (s) => { s.nodes!.nc1.privateInterface = 'enp0s20f0u1u2'; }, 'groups[0].vlan', /enp0s20f0u1u2\.10/],
  ['duplicate group', (s) => { g(s, 1).name = 'default'; }, 'groups[1].name', /duplicate group/],
  ['chain names colliding', (s) => { Object.assign(g(s, 0), { owner: 'a-b', name: 'c' }); Object.assign(g(s, 1), { owner: 'a', name: 'b-c' }); s.instances = []; }, 'groups[1].name', /chain name/],
  ['group owner with a space', (s) => { g(s, 0).owner = 'ad min'; }, 'groups[0].owner', /letters, digits/],
  ['group name missing', (s) => { delete (g(s, 0) as Partial<Group>).name; }, 'groups[0].name', /required/],
  ['group block of the wrong size', (s) => { g(s, 0).subnet = '10.1.2.0/26'; }, 'groups[0].subnet', /\/27/],
  ['group block outside the subnet', (s) => { g(s, 0).subnet = '10.2.0.0/27'; }, 'groups[0].subnet', /outside the private subnet/],
  ['group block with host bits', (s) => { g(s, 0).subnet = '10.1.2.1/27'; }, 'groups[0].subnet', /host bits/],
  ['two groups, one block', (s) => { g(s, 1).subnet = '10.1.2.0/27'; }, 'groups[1].subnet', /duplicate group subnet/],
  // rules
  ['port over 65535', (s) => { rule0(s).from = 70000; }, 'groups[1].rules[0].from', /70000 is not a port 0-65535/],
  ['negative port', (s) => { rule0(s).to = -1; }, 'groups[1].rules[0].to', /port 0-65535/],
  ['port range reversed', (s) => { Object.assign(rule0(s), { from: 90, to: 80 }); }, 'groups[1].rules[0].to', /below from/],
  ['to without from', (s) => { delete rule0(s).from; }, 'groups[1].rules[0].from', /required/],
  ['port a string', (s) => { rule0(s).from = '22' as never; }, 'groups[1].rules[0].from', /integer/],
  ['unknown protocol name', (s) => { rule0(s).protocol = 'sctp' as never; }, 'groups[1].rules[0].protocol'],
  ['protocol number over 255', (s) => { rule0(s).protocol = 300; }, 'groups[1].rules[0].protocol'],
  ['ports on icmp', (s) => { rule0(s).protocol = 'icmp'; }, 'groups[1].rules[0].from', /tcp and udp only/],
  ['icmpType over 255', (s) => { g(s, 1).rules = [{ protocol: 'icmp', icmpType: 256, cidr: '0.0.0.0/0' }]; }, 'groups[1].rules[0].icmpType', /-1 for any/],
  ['icmpCode below -1', (s) => { g(s, 1).rules = [{ protocol: 'icmp', icmpType: 8, icmpCode: -2, cidr: '0.0.0.0/0' }]; }, 'groups[1].rules[0].icmpCode'],
  ['icmpCode without icmpType', (s) => { g(s, 1).rules = [{ protocol: 'icmp', icmpCode: 0, cidr: '0.0.0.0/0' }]; }, 'groups[1].rules[0].icmpCode', /needs an icmpType/],
  ['icmpType on tcp', (s) => { rule0(s).icmpType = 8; }, 'groups[1].rules[0].icmpType', /icmp only/],
  ['rule cidr malformed', (s) => { rule0(s).cidr = 'anywhere'; }, 'groups[1].rules[0].cidr'],
  ['rule with cidr and sourceGroup', (s) => { rule0(s).sourceGroup = 'admin/default'; }, 'groups[1].rules[0].sourceGroup', /exactly one/],
  ['rule with no source', (s) => { delete rule0(s).cidr; }, 'groups[1].rules[0]', /exactly one/],
  ['unknown sourceGroup', (s) => { delete rule0(s).cidr; rule0(s).sourceGroup = 'admin/nope'; }, 'groups[1].rules[0].sourceGroup', /no such group/],
  ['sourceGroup not owner/name', (s) => { delete rule0(s).cidr; rule0(s).sourceGroup = 'default'; }, 'groups[1].rules[0].sourceGroup', /owner\/name/],
  ['duplicate rule', (s) => { g(s, 1).rules!.push({ protocol: 'tcp', from: 80, cidr: '0.0.0.0/0' }); }, 'groups[1].rules[1]', /duplicate rule/],
  ['unknown rule key', (s) => { loose(rule0(s)).port = 80; }, 'groups[1].rules[0].port', /not a known property/],
  // instances
  ['duplicate instance id', (s) => { inst(s, 1).id = 'i-1'; }, 'instances[1].id', /duplicate instance id/],
  ['instance id with a space', (s) => { inst(s, 0).id = 'i 1'; }, 'instances[0].id'],
  ['unknown group', (s) => { inst(s, 0).group = 'admin/nope'; }, 'instances[0].group', /no such group/],
  ['group not owner/name', (s) => { inst(s, 0).group = 'default'; }, 'instances[0].group', /owner\/name/],
  ['unknown node', (s) => { inst(s, 0).node = 'nc9'; }, 'instances[0].node', /no such node/],
  ['node missing', (s) => { delete (inst(s, 0) as Partial<Instance>).node; }, 'instances[0].node', /required/],
  ['privateIp outside its block', (s) => { inst(s, 0).privateIp = '10.1.3.2'; }, 'instances[0].privateIp', /outside the block 10.1.2.0\/27/],
  ['privateIp outside a derived block', (s) => { inst(s, 2).privateIp = '10.1.2.9'; }, 'instances[2].privateIp', /10.1.1.32\/27 of group admin\/web/],
  ['privateIp the network address', (s) => { inst(s, 0).privateIp = '10.1.2.0'; }, 'instances[0].privateIp', /network address/],
  ['privateIp the gateway', (s) => { inst(s, 0).privateIp = '10.1.2.1'; }, 'instances[0].privateIp', /gateway/],
  ['privateIp the broadcast', (s) => { inst(s, 0).privateIp = '10.1.2.31'; }, 'instances[0].privateIp', /broadcast/],
  ['privateIp twice', (s) => { inst(s, 0).privateIp = '10.1.2.9'; inst(s, 1).privateIp = '10.1.2.9'; }, 'instances[1].privateIp', /duplicate/],
  ['privateIp malformed', (s) => { inst(s, 0).privateIp = '10.1.2'; }, 'instances[0].privateIp'],
  ['publicIp outside the pool', (s) => { inst(s, 0).publicIp = '192.168.33.5'; }, 'instances[0].publicIp', /not in the public pool/],
  ['publicIp twice', (s) => { inst(s, 1).publicIp = '192.168.32.200'; }, 'instances[1].publicIp', /duplicate publicIp/],
  ['publicIp neither address nor boolean', (s) => { inst(s, 0).publicIp = 200 as never; }, 'instances[0].publicIp'],
  ['mac malformed', (s) => { inst(s, 0).mac = 'd0:0d:0a:01:02'; }, 'instances[0].mac'],
  ['mac multicast', (s) => { inst(s, 0).mac = '01:00:5e:00:00:01'; }, 'instances[0].mac', /multicast/],
  ['mac twice', (s) => { inst(s, 0).mac = '02:00:00:00:00:09'; inst(s, 1).mac = '02:00:00:00:00:09'; }, 'instances[1].mac', /duplicate mac/],
  ['port twice on a node', (s) => { inst(s, 1).port = 'vnet1'; }, 'instances[1].port', /duplicate port/],
  ['port over 15 bytes', (s) => { inst(s, 0).port = 'vnet-instance-0001'; }, 'instances[0].port', /15/],
  ["port is the node's private NIC", (s) => { inst(s, 0).port = 'eth0'; }, 'instances[0].port', /private interface/],
  ['port named like a group bridge', (s) => { inst(s, 0).port = 'eucabr10'; }, 'instances[0].port', /bridge/],
  ['instance unknown key', (s) => { loose(inst(s, 0)).vlan = 10; }, 'instances[0].vlan', /not a known property/],
];

describe('malformed states are refused, naming the field', () => {
  test('there are at least 30 cases', () => expect(cases.length).toBeGreaterThanOrEqual(30));

  test.each(cases)('%s', (_name, mutate, field, reason) => {
    const s = JSON.parse(seedText) as Doc;
    mutate(s);
    let err: unknown;
    try {
      allocate(s);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ValidationError);
    const e = err as ValidationError;
    expect(e.field).toBe(field);
    expect(e.message).toContain(`invalid ${field} `);
    if (reason) expect(e.message).toMatch(reason);
  });
});

describe('documents', () => {
  test('the seed example is valid as it stands', () => {
    expect(() => validateState(JSON.parse(seedText))).not.toThrow();
  });

  test('not JSON', () => {
    expect(() => parseState('{"mode": ', 'state.json')).toThrow(/invalid state.json .*not valid JSON/);
  });

  test('not an object', () => {
    expect(() => validateState([])).toThrow(/invalid \(document\) \[\]: must be object/);
  });

  test('the message shows the value', () => {
    const s = JSON.parse(seedText) as Doc;
    g(s, 1).rules![0].from = 70000;
    expect(() => validateState(s)).toThrow('invalid groups[1].rules[0].from 70000: 70000 is not a port 0-65535');
  });
});

describe('a bridge takes at most 1023 ports', () => {
  /** The seed with `n` instances of admin/default on nc1 (room for them: 2048 addresses a group, no public IPs). */
  const crowded = (n: number, mode?: 'MANAGED-NOVLAN') => {
    const s = JSON.parse(seedText) as Doc;
    s.addrsPerNet = 2048;
    delete g(s, 0).subnet;
    if (mode) Object.assign(s, { mode, segmentation: 'none' });
    const groups = mode ? ['admin/default', 'admin/web'] : ['admin/default'];
    s.instances = Array.from({ length: n }, (_, i) => ({ id: `i-${i}`, group: groups[i % groups.length], node: 'nc1', port: `vnet${i}` }));
    return s;
  };

  test('1022 instances of one group on one node fit (with the uplink, 1023 ports)', () => {
    expect(allocate(crowded(1022)).instances).toHaveLength(1022);
  });

  test('the 1023rd is refused, naming the instance, the node and the group', () => {
    expect(() => allocate(crowded(1023))).toThrow(
      'invalid instances[1022].node "nc1": the bridge of group admin/default on this node would need 1024 ports (1023 instances and the uplink); a Linux bridge takes at most 1023',
    );
  });

  test('without segmentation every group shares the one bridge', () => {
    expect(() => allocate(crowded(1023, 'MANAGED-NOVLAN'))).toThrow(
      /instances\[1022\]\.node "nc1": the bridge of all groups on this node would need 1024 ports/,
    );
  });
});
