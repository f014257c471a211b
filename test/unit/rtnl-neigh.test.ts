// Neighbours and the bridge FDB, without root:
// - golden bytes: every request is compared with what `ip neigh` / `bridge fdb`
//   sent for the same thing (test/fixtures/rtnl/{neigh,fdb}-*.hex, captured by
//   capture.mjs with strace);
// - the decoder on captured RTM_GETNEIGH dumps (dump-neigh4/6, dump-fdb,
//   captured by capture-neigh-dumps.mjs), checked against concrete values and
//   against `ip -j neigh` / `bridge -j fdb` of the same namespace.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.js';
import { NLMSG_DONE } from '../../src/netlink/constants.js';
import { splitMessages } from '../../src/netlink/reader.js';
import type { Request } from '../../src/netlink/socket.js';
import { RTM_NEWNEIGH } from '../../src/rtnl/constants.js';
import type { Resolver } from '../../src/rtnl/kinds/index.js';
import { FdbAddRequest, FdbAppendRequest, FdbDeleteRequest, FdbReplaceRequest, validateFdb, type FdbSpec } from '../../src/rtnl/fdb.js';
import {
  decodeNeighbor,
  NeighborAddRequest,
  NeighborDeleteRequest,
  NeighborReplaceRequest,
  validateNeighbor,
  type Neighbor,
  type NeighborSpec,
} from '../../src/rtnl/neigh.js';
import { expectGolden, golden, goldenResolver, RTNL_FIXTURES } from '../helpers/rtnl-golden.js';

describe('neighbours: golden bytes from ip neigh', () => {
  const check = (name: string, Req: new (spec: NeighborSpec, r: Resolver) => Request, spec: NeighborSpec) => {
    const f = golden(name);
    expectGolden(new Req(spec, goldenResolver(f)), f);
  };
  it('add permanent (NLM_F_CREATE|NLM_F_EXCL)', () =>
    check('neigh-add-permanent', NeighborAddRequest, { dev: 'br0', address: '10.1.2.5', lladdr: '02:00:00:00:00:05', state: 'permanent' }));
  it('add without a state is permanent, as with ip', () =>
    check('neigh-add-permanent', NeighborAddRequest, { dev: 'br0', address: '10.1.2.5', lladdr: '02:00:00:00:00:05' }));
  it('replace reachable (NLM_F_CREATE|NLM_F_REPLACE)', () =>
    check('neigh-replace-reachable', NeighborReplaceRequest, { dev: 'br0', address: '10.1.2.5', lladdr: '02:00:00:00:00:06', state: 'reachable' }));
  it('add IPv6 noarp', () => check('neigh-add-v6-noarp', NeighborAddRequest, { dev: 'br0', address: 'fd00::5', lladdr: '02:00:00:00:00:05', state: 'noarp' }));
  it('delete sends only the address (the lladdr, if given, is left out like ip does)', () => {
    check('neigh-del', NeighborDeleteRequest, { dev: 'br0', address: '10.1.2.5' });
    check('neigh-del', NeighborDeleteRequest, { dev: 'br0', address: '10.1.2.5', lladdr: '02:00:00:00:00:05' });
  });
  it('the device by ifindex encodes the same', () => {
    const f = golden('neigh-add-permanent');
    expectGolden(new NeighborAddRequest({ dev: f.ifindex.get('br0')!, address: '10.1.2.5', lladdr: '02:00:00:00:00:05' }, goldenResolver(f)), f);
  });
});

describe('bridge FDB: golden bytes from bridge fdb', () => {
  const check = (name: string, Req: new (spec: FdbSpec, r: Resolver) => Request, spec: FdbSpec) => {
    const f = golden(name);
    expectGolden(new Req(spec, goldenResolver(f)), f);
  };
  it('add on a bridge port, master static', () =>
    check('fdb-add-master', FdbAddRequest, { dev: 'veth0', lladdr: '02:00:00:00:00:07', master: true, state: 'static' }));
  it('add on a vxlan device, dst, self permanent', () =>
    check('fdb-add-self-dst', FdbAddRequest, { dev: 'vx0', lladdr: '02:00:00:00:00:08', dst: '10.0.0.2', self: true }));
  it('append the all-zeros MAC with dst, vni, port, self (NLM_F_APPEND): a flood list entry', () =>
    check('fdb-append-zero', FdbAppendRequest, { dev: 'vx0', lladdr: '00:00:00:00:00:00', dst: '10.0.0.2', vni: 10, port: 4789, self: true }));
  it('replace (NLM_F_CREATE|NLM_F_REPLACE)', () =>
    check('fdb-replace-self', FdbReplaceRequest, { dev: 'vx0', lladdr: '02:00:00:00:00:08', dst: '10.0.0.3', self: true, state: 'permanent' }));
  it('delete one flood destination', () => check('fdb-del-zero', FdbDeleteRequest, { dev: 'vx0', lladdr: '00:00:00:00:00:00', dst: '10.0.0.2', self: true }));
  it('describes itself as the bridge command', () => {
    const f = golden('fdb-append-zero');
    const req = new FdbAppendRequest({ dev: 'vx0', lladdr: '00:00:00:00:00:00', dst: '10.0.0.2', vni: 10, port: 4789, self: true }, goldenResolver(f));
    expect(req.describe()).toBe('fdb append 00:00:00:00:00:00 dev vx0 dst 10.0.0.2 port 4789 vni 10 self permanent');
  });
});

describe('validation names the field and the value', () => {
  const nbad: Array<[string, unknown, string]> = [
    ['a bad address', { dev: 'br0', address: '10.1.2' }, 'address'],
    ['a bad MAC', { dev: 'br0', address: '10.1.2.5', lladdr: '02:00' }, 'lladdr'],
    ['an unknown state', { dev: 'br0', address: '10.1.2.5', state: 'forever' }, 'state'],
    ['a bad device name', { dev: 'a/b', address: '10.1.2.5' }, 'dev'],
  ];
  for (const [what, spec, field] of nbad) {
    it(`neighbour: refuses ${what}`, () => {
      const err = (() => {
        try {
          validateNeighbor(spec as NeighborSpec);
        } catch (e) {
          return e;
        }
      })();
      expect(err).toBeInstanceOf(ValidationError);
      expect((err as ValidationError).field).toBe(field);
    });
  }
  const fbad: Array<[string, unknown, string]> = [
    ['a VNI over 24 bits', { dev: 'vx0', lladdr: '00:00:00:00:00:00', vni: 16777216 }, 'vni'],
    ['port 0', { dev: 'vx0', lladdr: '00:00:00:00:00:00', port: 0 }, 'port'],
    ['port 65536', { dev: 'vx0', lladdr: '00:00:00:00:00:00', port: 65536 }, 'port'],
    ['a bad dst', { dev: 'vx0', lladdr: '00:00:00:00:00:00', dst: 'nope' }, 'dst'],
    ['a bad MAC', { dev: 'vx0', lladdr: 'zz:00:00:00:00:00' }, 'lladdr'],
    ['an unknown state', { dev: 'vx0', lladdr: '00:00:00:00:00:00', state: 'reachable' }, 'state'],
    ['a 16-byte device name', { dev: 'abcdefghijklmnop', lladdr: '00:00:00:00:00:00' }, 'dev'],
  ];
  for (const [what, spec, field] of fbad) {
    it(`fdb: refuses ${what}`, () => {
      expect(() => validateFdb(spec as FdbSpec)).toThrow(ValidationError);
      try {
        validateFdb(spec as FdbSpec);
      } catch (e) {
        expect((e as ValidationError).field).toBe(field);
        expect((e as Error).message).toContain(field);
      }
    });
  }
  it('accepts VNI 0 and 16777215, ports 1 and 65535', () => {
    for (const vni of [0, 16777215]) expect(() => validateFdb({ dev: 'vx0', lladdr: '00:00:00:00:00:00', vni })).not.toThrow();
    for (const port of [1, 65535]) expect(() => validateFdb({ dev: 'vx0', lladdr: '00:00:00:00:00:00', port })).not.toThrow();
  });
});

function dumpOf(name: string): Neighbor[] {
  const text = readFileSync(join(RTNL_FIXTURES, `${name}.hex`), 'utf8');
  const msgs = splitMessages(
    Buffer.from(
      text
        .split('\n')
        .filter((l) => l && !l.startsWith('#'))
        .join(''),
      'hex',
    ),
  );
  expect(msgs.at(-1)!.type).toBe(NLMSG_DONE);
  return msgs.filter((m) => m.type === RTM_NEWNEIGH).map(decodeNeighbor);
}
function ifnames(name: string): Map<number, string> {
  const line = readFileSync(join(RTNL_FIXTURES, `${name}.hex`), 'utf8').match(/ifindex: ([^;]+);/)![1];
  return new Map(line.split(' ').map((p) => [Number(p.split('=')[1]), p.split('=')[0]] as [number, string]));
}
const json = (file: string): any[] => JSON.parse(readFileSync(join(RTNL_FIXTURES, file), 'utf8'));

describe('decodeNeighbor on RTM_GETNEIGH dumps', () => {
  it('IPv4 neighbours: permanent, reachable, stale, noarp', () => {
    const n = dumpOf('dump-neigh4');
    const by = (ip: string) => n.find((x) => x.dst === ip)!;
    expect(by('10.1.2.5')).toMatchObject({ family: 4, lladdr: '02:00:00:00:00:05', state: ['permanent'], ndmState: 0x80, flags: [] });
    expect(by('10.1.2.6').state).toEqual(['reachable']);
    expect(by('10.1.2.7').state).toEqual(['stale']);
    expect(by('10.1.2.8').state).toEqual(['noarp']);
    expect(by('10.1.2.5').cacheinfo?.refcnt).toBeTypeOf('number');
  });
  it('IPv6 neighbour with the router flag', () => {
    const n = dumpOf('dump-neigh6').find((x) => x.dst === 'fd00::5')!;
    expect(n).toMatchObject({ family: 6, lladdr: '02:00:00:00:00:05', state: ['permanent'], flags: ['router'] });
  });
  for (const fam of [4, 6]) {
    it(`IPv${fam}: agrees with \`ip -j -${fam} neigh show nud all\``, () => {
      const names = ifnames(`dump-neigh${fam}`);
      const ours = dumpOf(`dump-neigh${fam}`).map((x) => ({
        dst: x.dst,
        dev: names.get(x.index),
        lladdr: x.lladdr,
        state: x.state.map((s) => s.toUpperCase()),
        router: x.flags.includes('router'),
      }));
      const theirs = json(`dump-neigh${fam}.ip.json`).map((x) => ({ dst: x.dst, dev: x.dev, lladdr: x.lladdr, state: x.state, router: 'router' in x }));
      const key = (x: { dst?: string; dev?: string }) => `${x.dev} ${x.dst}`;
      const sort = <T extends { dst?: string; dev?: string }>(a: T[]) => [...a].sort((p, q) => key(p).localeCompare(key(q)));
      expect(sort(ours)).toEqual(sort(theirs));
    });
  }
  it('FDB: a vxlan flood list (two all-zeros entries, one with port, vni and via), a static MAC on a port (the bridge reports static as NUD_NOARP alone)', () => {
    const f = dumpOf('dump-fdb');
    const names = ifnames('dump-fdb');
    const zeros = f.filter((x) => x.lladdr === '00:00:00:00:00:00');
    expect(zeros.map((z) => z.dst).sort()).toEqual(['10.0.0.2', '10.0.0.3']);
    for (const z of zeros) expect(z).toMatchObject({ family: 'bridge', flags: ['self'], state: ['noarp', 'permanent'] });
    expect(zeros.find((z) => z.dst === '10.0.0.3')).toMatchObject({ port: 4790, vni: 11, ifindex: [...names].find(([, n]) => n === 'veth1')![0] });
    expect(zeros.find((z) => z.dst === '10.0.0.2')!.port).toBeUndefined();
    const stat = f.find((x) => x.lladdr === '02:00:00:00:00:09')!;
    expect(stat).toMatchObject({ flags: [], state: ['noarp'], master: [...names].find(([, n]) => n === 'br0')![0] });
  });
  it('FDB: agrees with `bridge -j fdb show`', () => {
    const names = ifnames('dump-fdb');
    const stateOf = (x: Neighbor) => (x.state.includes('permanent') ? 'permanent' : x.state.includes('noarp') ? 'static' : '');
    const ours = dumpOf('dump-fdb').map((x) => ({
      mac: x.lladdr,
      ifname: names.get(x.index),
      dst: x.dst,
      port: x.port,
      vni: x.vni,
      via: x.ifindex !== undefined ? names.get(x.ifindex) : undefined,
      flags: x.flags,
      master: x.master !== undefined ? names.get(x.master) : undefined,
      state: stateOf(x),
    }));
    const theirs = json('dump-fdb.bridge.json').map((x) => ({
      mac: x.mac,
      ifname: x.ifname,
      dst: x.dst,
      port: x.port,
      vni: x.vni,
      via: x.viaIf,
      flags: x.flags,
      master: x.master,
      state: x.state,
    }));
    expect(ours).toEqual(theirs);
  });
});
