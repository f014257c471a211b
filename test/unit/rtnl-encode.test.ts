// Golden bytes: every rtnetlink request we encode is compared with the bytes
// `ip` sent for the same thing, captured with strace by
// test/fixtures/rtnl/capture.mjs (see test/fixtures/rtnl/README.md). No root
// needed here: the fixtures carry the namespace's ifindexes, and a fake
// Resolver hands them to the encoder. Sequence number and port are masked.
//
// Where we deliberately differ from ip the expected bytes are ip's, edited by a
// helper below, and the test says why.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.js';
import type { Request } from '../../src/netlink/socket.js';
import { NlWriter } from '../../src/netlink/writer.js';
import { AddressAddRequest, AddressDeleteRequest } from '../../src/rtnl/address.js';
import * as A from '../../src/rtnl/attrs.js';
import type { Resolver } from '../../src/rtnl/kinds/index.js';
import {
  LinkAddRequest,
  LinkDeleteGroupRequest,
  LinkDeleteRequest,
  LinkSetRequest,
  validateLinkSpec,
  type LinkChanges,
  type LinkSpec,
} from '../../src/rtnl/link.js';
import { RouteAddRequest, RouteDeleteRequest } from '../../src/rtnl/route.js';

const dir = join(dirname(fileURLToPath(import.meta.url)), '../fixtures/rtnl');

interface Fixture {
  command: string;
  ifindex: Map<string, number>;
  bytes: Buffer;
}

function fixture(name: string): Fixture {
  const text = readFileSync(join(dir, `${name}.hex`), 'utf8');
  const lines = text.split('\n');
  const command = lines.find((l) => l.startsWith('# ip '))!.slice(2);
  const ifindex = new Map<string, number>();
  const idx = lines.find((l) => l.startsWith('# ifindex:'));
  for (const pair of idx?.slice('# ifindex:'.length).trim().split(/\s+/) ?? []) {
    const [n, i] = pair.split('=');
    ifindex.set(n, Number(i));
  }
  const hex = lines.filter((l) => l && !l.startsWith('#')).join('');
  return { command, ifindex, bytes: Buffer.from(hex, 'hex') };
}

/** What the encoder gets for a namespace fd; masked in both buffers before comparing. */
const NETNS_FD_SENTINEL = 0x7eadbeef;

function resolver(f: Fixture): Resolver {
  return {
    index(ref) {
      if (typeof ref === 'number') return ref;
      const i = f.ifindex.get(ref);
      if (i === undefined) throw new Error(`fixture has no ifindex for ${ref}`);
      return i;
    },
    netnsFd: () => NETNS_FD_SENTINEL,
  };
}

function encode(req: Request): Buffer {
  const w = new NlWriter(64);
  req.encode(w, 0);
  return Buffer.from(w.bytes());
}

/** Zeroes seq and port, and the value of every IFLA_NET_NS_FD we filled with the sentinel. */
function mask(ours: Buffer, theirs: Buffer): [Buffer, Buffer] {
  const a = Buffer.from(ours);
  const b = Buffer.from(theirs);
  for (const x of [a, b]) x.fill(0, 8, 16);
  const sentinel = Buffer.alloc(4);
  sentinel.writeUInt32LE(NETNS_FD_SENTINEL);
  for (let at = a.indexOf(sentinel); at >= 0; at = a.indexOf(sentinel, at + 4)) {
    // It must be the payload of an IFLA_NET_NS_FD in both messages.
    expect(a.readUInt16LE(at - 2)).toBe(A.IFLA_NET_NS_FD);
    expect(b.readUInt16LE(at - 2)).toBe(A.IFLA_NET_NS_FD);
    a.fill(0, at, at + 4);
    b.fill(0, at, at + 4);
  }
  return [a, b];
}

/** 16 bytes a line, so that a mismatch shows as a readable diff. */
const rows = (b: Buffer) =>
  b
    .toString('hex')
    .replace(/(.{32})/g, '$1\n')
    .trim();

function expectBytes(req: Request, expected: Buffer): void {
  const [a, b] = mask(encode(req), expected);
  expect(rows(a)).toBe(rows(b));
}

// --- Editing ip's bytes for the places where we differ on purpose ---------

const FAMILY_HDR: Record<number, number> = { 16: 16, 17: 16, 20: 8, 21: 8, 24: 12, 25: 12 };

/** Offset of the attribute at `path` (types from the outside in) and its enclosing nests. */
function locate(msg: Buffer, path: number[]): { at: number; parents: number[] } {
  let start = 16 + FAMILY_HDR[msg.readUInt16LE(4)];
  let end = msg.readUInt32LE(0);
  const parents: number[] = [];
  for (let depth = 0; depth < path.length; depth++) {
    let found = -1;
    for (let off = start; off + 4 <= end; off += (msg.readUInt16LE(off) + 3) & ~3) {
      if ((msg.readUInt16LE(off + 2) & 0x3fff) === path[depth]) {
        found = off;
        break;
      }
    }
    if (found < 0) throw new Error(`attribute path ${path.join('/')} not found`);
    if (depth === path.length - 1) return { at: found, parents };
    parents.push(found);
    start = found + 4;
    end = found + msg.readUInt16LE(found);
  }
  throw new Error('empty path');
}

/** ip's message without the attribute at `path` (nest and message lengths fixed up). */
function withoutAttr(msg: Buffer, path: number[]): Buffer {
  const { at, parents } = locate(msg, path);
  const size = (msg.readUInt16LE(at) + 3) & ~3;
  const out = Buffer.concat([msg.subarray(0, at), msg.subarray(at + size)]);
  out.writeUInt32LE(out.readUInt32LE(0) - size, 0);
  for (const p of parents) out.writeUInt16LE(out.readUInt16LE(p) - size, p);
  return out;
}

/** A NUL-terminated string attribute, padded. */
function strAttr(type: number, s: string): Buffer {
  const len = 4 + Buffer.byteLength(s) + 1;
  const out = Buffer.alloc((len + 3) & ~3);
  out.writeUInt16LE(len, 0);
  out.writeUInt16LE(type, 2);
  out.write(s, 4);
  return out;
}

/**
 * ip always names the link by ifindex (it looks it up first); given a name,
 * we let the kernel look it up instead: ifi_index 0 and IFLA_IFNAME first.
 * That saves a round trip and lets requests on links created in the same
 * batch be pipelined.
 */
function byName(msg: Buffer, name: string): Buffer {
  const head = Buffer.from(msg.subarray(0, 32));
  head.writeInt32LE(0, 20);
  const out = Buffer.concat([head, strAttr(A.IFLA_IFNAME, name), msg.subarray(32)]);
  out.writeUInt32LE(out.length, 0);
  return out;
}

// --- Links ------------------------------------------------------------------

function linkAdd(name: string, spec: LinkSpec): void {
  const f = fixture(name);
  validateLinkSpec(spec);
  expectBytes(new LinkAddRequest(spec, resolver(f)), f.bytes);
}

describe('link add: golden bytes from ip', () => {
  it('bridge: stp off, forward delay 0 (ip link add name br0 type bridge stp_state 0 forward_delay 0)', () => {
    linkAdd('link-add-bridge', { name: 'br0', kind: 'bridge', stp: false, forwardDelay: 0 });
  });
  it("bridge: stp off, forward delay 0, multicast snooping off (the MANAGED roles' bridges)", () => {
    linkAdd('link-add-bridge-nosnoop', { name: 'br0', kind: 'bridge', stp: false, forwardDelay: 0, multicastSnooping: false });
  });
  it('bridge: stp on, forward delay 2 s, hello time 1 s (ip takes centiseconds)', () => {
    linkAdd('link-add-bridge-timers', { name: 'br0', kind: 'bridge', stp: true, forwardDelay: 2, helloTime: 1 });
  });
  it('bridge with mtu, MAC address, group and up', () => {
    linkAdd('link-add-bridge-attrs', {
      name: 'br0',
      kind: 'bridge',
      mtu: 1400,
      address: '02:00:00:00:00:01',
      group: 7,
      up: true,
      stp: false,
    });
  });

  // This kernel has no 8021q: ip's request failed with EOPNOTSUPP, but these are the bytes it sent.
  it('vlan: id 10 on a parent, no protocol', () => {
    linkAdd('link-add-vlan', { name: 'br0.10', kind: 'vlan', parent: 'br0', id: 10 });
  });
  it('vlan: 802.1Q, id 4094', () => {
    linkAdd('link-add-vlan-8021q', { name: 'br0.4094', kind: 'vlan', parent: 'br0', id: 4094, protocol: '802.1Q' });
  });
  it('vlan: 802.1ad, id 100', () => {
    linkAdd('link-add-vlan-8021ad', { name: 'br0.100', kind: 'vlan', parent: 'br0', id: 100, protocol: '802.1ad' });
  });
  it('vlan: parent given by ifindex encodes the same', () => {
    const f = fixture('link-add-vlan');
    expectBytes(new LinkAddRequest({ name: 'br0.10', kind: 'vlan', parent: f.ifindex.get('br0')!, id: 10 }, resolver(f)), f.bytes);
  });

  it('veth pair', () => {
    linkAdd('link-add-veth', { name: 'veth0', kind: 'veth', peer: 'veth1' });
  });
  it('veth with the peer in another namespace (IFLA_NET_NS_FD value masked: it is an fd number)', () => {
    linkAdd('link-add-veth-netns', { name: 'veth0', kind: 'veth', peer: 'veth1', peerNetns: 'other' });
  });
  it('veth enslaved to a bridge and up', () => {
    linkAdd('link-add-veth-master', { name: 'veth0', kind: 'veth', peer: 'veth1', master: 'br0', up: true });
  });

  it('vxlan: id, remote, local, dev, dstport (learning given explicitly, as ip always sends it)', () => {
    linkAdd('link-add-vxlan', {
      name: 'vx42',
      kind: 'vxlan',
      vni: 42,
      remote: '192.168.7.2',
      local: '192.168.7.1',
      device: 'br0',
      port: 4789,
      learning: true,
    });
  });
  it('vxlan without learning: ip bytes minus IFLA_VXLAN_LEARNING', () => {
    // ip always sends IFLA_VXLAN_LEARNING 1, the kernel's own default; we send
    // it only when the caller asks, and leave kernel defaults alone otherwise.
    const f = fixture('link-add-vxlan');
    const spec: LinkSpec = { name: 'vx42', kind: 'vxlan', vni: 42, remote: '192.168.7.2', local: '192.168.7.1', device: 'br0' };
    const expected = withoutAttr(f.bytes, [A.IFLA_LINKINFO, A.IFLA_INFO_DATA, A.IFLA_VXLAN_LEARNING]);
    // No port given: we send the IANA port 4789 (ip sends none and the kernel would use 8472).
    expectBytes(new LinkAddRequest(spec, resolver(f)), expected);
  });
  it('vxlan: IPv6 multicast group, port 8472', () => {
    linkAdd('link-add-vxlan-group6', {
      name: 'vx7',
      kind: 'vxlan',
      vni: 7,
      multicastGroup: 'ff05::100',
      device: 'br0',
      port: 8472,
      learning: true,
    });
  });

  it('macvlan: mode bridge', () => {
    linkAdd('link-add-macvlan', { name: 'mv0', kind: 'macvlan', parent: 'br0', mode: 'bridge' });
  });
  it('macvlan: mode private', () => {
    linkAdd('link-add-macvlan-private', { name: 'mv1', kind: 'macvlan', parent: 'br0', mode: 'private' });
  });
});

describe('link set: golden bytes from ip', () => {
  const cases: Array<[string, LinkChanges]> = [
    ['up', { up: true }],
    ['down', { up: false }],
    ['master', { master: 'br0' }],
    ['nomaster', { master: null }],
    ['mtu', { mtu: 1400 }],
    ['address', { address: 'd0:0d:0a:01:02:02' }],
    ['group', { group: 7 }],
    ['alias', { alias: 'eucalyptus-i-1234' }],
    ['netns', { netns: 'other' }],
    ['multi', { up: true, mtu: 1400, group: 7, master: 'br0' }],
  ];
  for (const [name, changes] of cases) {
    it(`${name}: ${JSON.stringify(changes)}, link by ifindex as ip sends it`, () => {
      const f = fixture(`link-set-${name}`);
      expectBytes(new LinkSetRequest(f.ifindex.get('veth0')!, changes, resolver(f)), f.bytes);
    });
  }
  it('name: a rename addresses the link by ifindex, like ip', () => {
    const f = fixture('link-set-name');
    expectBytes(new LinkSetRequest('veth0', { name: 'veth9' }, resolver(f)), f.bytes);
  });
  for (const name of ['up', 'mtu', 'master', 'multi']) {
    it(`${name}, link by name: ip's bytes with ifi_index 0 and IFLA_IFNAME (the kernel looks it up)`, () => {
      const f = fixture(`link-set-${name}`);
      const changes = cases.find(([n]) => n === name)![1];
      expectBytes(new LinkSetRequest('veth0', changes, resolver(f)), byName(f.bytes, 'veth0'));
    });
  }
});

describe('link delete: golden bytes from ip', () => {
  it('one link by ifindex', () => {
    const f = fixture('link-del');
    expectBytes(new LinkDeleteRequest(f.ifindex.get('br0')!), f.bytes);
  });
  it('one link by name: ifi_index 0 and IFLA_IFNAME', () => {
    const f = fixture('link-del');
    expectBytes(new LinkDeleteRequest('br0'), byName(f.bytes, 'br0'));
  });
  it('a whole device group (ip link delete group 7)', () => {
    expectBytes(new LinkDeleteGroupRequest(7), fixture('link-del-group').bytes);
  });
});

// --- Addresses --------------------------------------------------------------

describe('address: golden bytes from ip', () => {
  it('add IPv4 /24', () => {
    const f = fixture('addr-add-v4');
    expectBytes(new AddressAddRequest({ dev: 'br0', address: '10.1.2.1/24' }, resolver(f)), f.bytes);
  });
  it('add IPv4 with an explicit broadcast', () => {
    const f = fixture('addr-add-v4-brd');
    expectBytes(new AddressAddRequest({ dev: 'br0', address: '10.1.2.1/24', broadcast: '10.1.2.255' }, resolver(f)), f.bytes);
  });
  it('add IPv4 with broadcast: true computes the same broadcast', () => {
    const f = fixture('addr-add-v4-brd');
    expectBytes(new AddressAddRequest({ dev: 'br0', address: '10.1.2.1/24', broadcast: true }, resolver(f)), f.bytes);
  });
  it('add IPv4 /32 with a label (a Eucalyptus public IP)', () => {
    const f = fixture('addr-add-v4-label');
    expectBytes(new AddressAddRequest({ dev: 'br0', address: '192.168.32.200/32', label: 'br0:pub' }, resolver(f)), f.bytes);
  });
  it('add IPv6 /64', () => {
    const f = fixture('addr-add-v6');
    expectBytes(new AddressAddRequest({ dev: 'br0', address: 'fd00::1/64' }, resolver(f)), f.bytes);
  });
  it('delete IPv4', () => {
    const f = fixture('addr-del-v4');
    expectBytes(new AddressDeleteRequest({ dev: 'br0', address: '10.1.2.1/24' }, resolver(f)), f.bytes);
  });
  it('delete IPv6', () => {
    const f = fixture('addr-del-v6');
    expectBytes(new AddressDeleteRequest({ dev: 'br0', address: 'fd00::1/64' }, resolver(f)), f.bytes);
  });
});

// --- Routes -----------------------------------------------------------------

describe('route: golden bytes from ip', () => {
  const add = (name: string, spec: ConstructorParameters<typeof RouteAddRequest>[0]) => {
    const f = fixture(name);
    expectBytes(new RouteAddRequest(spec, resolver(f)), f.bytes);
  };
  it('add default via a gateway', () => add('route-add-default', { dst: 'default', gateway: '10.1.2.254' }));
  it('add dst dev (scope link)', () => add('route-add-dst-dev', { dst: '10.9.0.0/16', dev: 'br0' }));
  it('add dst via dev in table 100 (rtm_table)', () => add('route-add-via-dev-table', { dst: '10.9.0.0/16', gateway: '10.1.2.254', dev: 'br0', table: 100 }));
  it('add in table 1000 (RTA_TABLE)', () => add('route-add-table-big', { dst: '10.9.0.0/16', dev: 'br0', table: 1000 }));
  it('add with src and metric', () => add('route-add-metric-src', { dst: '10.9.0.0/16', gateway: '10.1.2.254', src: '10.1.2.1', dev: 'br0', metric: 50 }));
  it('add IPv6 via dev', () => add('route-add-v6', { dst: 'fd01::/64', gateway: 'fd00::fe', dev: 'br0' }));
  it('delete default via', () => {
    const f = fixture('route-del-default');
    expectBytes(new RouteDeleteRequest({ dst: 'default', gateway: '10.1.2.254' }, resolver(f)), f.bytes);
  });
  it('delete dst dev', () => {
    const f = fixture('route-del-dst-dev');
    expectBytes(new RouteDeleteRequest({ dst: '10.9.0.0/16', dev: 'br0' }, resolver(f)), f.bytes);
  });
});

describe('fixtures', () => {
  it('each fixture records the ip command it came from', () => {
    expect(fixture('link-add-vlan-8021ad').command).toBe('ip link add link br0 name br0.100 type vlan protocol 802.1ad id 100');
    expect(fixture('link-del-group').command).toBe('ip link delete group 7');
  });
});

// --- Validation happens before anything is encoded --------------------------

describe('link validation', () => {
  const bad: Array<[string, unknown, string]> = [
    ['vlan id 0', { name: 'v0', kind: 'vlan', parent: 'br0', id: 0 }, 'vlan.id'],
    ['vlan id 4095', { name: 'v0', kind: 'vlan', parent: 'br0', id: 4095 }, 'vlan.id'],
    ['vlan protocol', { name: 'v0', kind: 'vlan', parent: 'br0', id: 5, protocol: '802.1x' }, 'vlan.protocol'],
    ['a 16-byte name', { name: 'abcdefghijklmnop', kind: 'bridge' }, 'name'],
    ['a 16-byte veth peer name', { name: 'v0', kind: 'veth', peer: 'abcdefghijklmnop' }, 'veth.peer'],
    ['vxlan vni 0', { name: 'vx', kind: 'vxlan', vni: 0 }, 'vxlan.vni'],
    ['macvlan mode', { name: 'mv', kind: 'macvlan', parent: 'br0', mode: 'nope' }, 'macvlan.mode'],
    ['mtu 10', { name: 'br0', kind: 'bridge', mtu: 10 }, 'mtu'],
    ['a bad MAC', { name: 'br0', kind: 'bridge', address: '00:11' }, 'address'],
    ['an unknown kind', { name: 'x0', kind: 'dummy' }, 'kind'],
  ];
  for (const [what, spec, field] of bad) {
    it(`refuses ${what}, naming the field ${field}`, () => {
      let err: unknown;
      try {
        validateLinkSpec(spec as LinkSpec);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ValidationError);
      expect((err as ValidationError).field).toBe(field);
      expect((err as Error).message).toContain(field);
    });
  }
  it('accepts VLAN ids 1 and 4094 and a 15-byte name', () => {
    expect(() => validateLinkSpec({ name: 'v1', kind: 'vlan', parent: 'br0', id: 1 })).not.toThrow();
    expect(() => validateLinkSpec({ name: 'v4094', kind: 'vlan', parent: 'br0', id: 4094 })).not.toThrow();
    expect(() => validateLinkSpec({ name: 'abcdefghijklmno', kind: 'bridge' })).not.toThrow();
  });
});
