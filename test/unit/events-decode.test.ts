// Decoding of captured notifications (test/fixtures/events/*.hex, taken from
// real subscriptions by capture.mjs while `ip` and `nft` made each change)
// into the typed events h.events() yields.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeNftEvent, decodeRtnlEvent, type SetCache } from '../../src/events/decode.js';
import type { NetEvent } from '../../src/events/types.js';
import { isDecodeError } from '../../src/errors.js';
import { splitMessages, type NlMessage } from '../../src/netlink/reader.js';

function fixture(name: string): NlMessage[] {
  const text = readFileSync(new URL(`../fixtures/events/${name}.hex`, import.meta.url), 'utf8');
  return splitMessages(
    Buffer.from(
      text
        .split('\n')
        .filter((l) => !l.startsWith('#'))
        .join(''),
      'hex',
    ),
  );
}

const rtnl = (name: string) => fixture(name).map((m) => decodeRtnlEvent(m));
const nft = (name: string, sets: SetCache = new Map()) => fixture(name).map((m) => decodeNftEvent(m, sets));
/** [type, action] of each event, and whether it names a port. */
const shape = (evs: Array<NetEvent | undefined>) => evs.map((e) => e && [e.type, 'action' in e ? e.action : '', 'port' in e && e.port !== 0]);

describe('events decoded from captured notifications', () => {
  it('ip link add br0 type bridge: its FDB entry, then the link (port 0: links are not attributed)', () => {
    const evs = rtnl('link-add');
    expect(shape(evs)).toEqual([
      ['neighbor', 'new', false],
      ['neighbor', 'del', false],
      ['neighbor', 'new', false],
      ['link', 'new', false],
    ]);
    expect(evs[3]).toMatchObject({ link: { name: 'br0', kind: 'bridge', address: '02:00:00:00:00:01', up: false } });
    expect(evs[2]).toMatchObject({ neighbor: { family: 'bridge', lladdr: '02:00:00:00:00:01' } });
  });

  it("ip addr add: the address (with ip's port), and the local route the kernel derives (port 0)", () => {
    const evs = rtnl('addr-add');
    expect(shape(evs)).toEqual([
      ['address', 'new', true],
      ['route', 'new', false],
    ]);
    expect(evs[0]).toMatchObject({ address: { family: 4, address: '10.1.2.1', prefix: 24 } });
    expect(evs[1]).toMatchObject({ route: { dst: '10.1.2.1/32', table: 255 } });
  });

  it('ip link set up: the link, up, and the routes that come with it', () => {
    const evs = rtnl('link-up');
    expect(shape(evs)).toEqual([
      ['link', 'new', false],
      ['route', 'new', false],
      ['route', 'new', false],
    ]);
    expect(evs[0]).toMatchObject({ link: { name: 'br0', up: true } });
    expect(evs[1]).toMatchObject({ route: { dst: '10.1.2.0/24', table: 254 } });
  });

  it("ip route add / del: the route with its gateway and protocol, new then del, with ip's port", () => {
    const [add] = rtnl('route-add');
    const [del] = rtnl('route-del');
    expect(add).toMatchObject({ type: 'route', action: 'new', route: { dst: '10.9.0.0/16', gateway: '10.1.2.254', table: 254, protocol: 4 } });
    expect(del).toMatchObject({ type: 'route', action: 'del', route: { dst: '10.9.0.0/16' } });
    // Each by its own ip process's socket.
    for (const e of [add, del]) expect(e?.type === 'route' && e.port).toBeGreaterThan(0);
  });

  it('ip neigh add: the neighbour with its MAC and state', () => {
    expect(rtnl('neigh-add')).toEqual([
      expect.objectContaining({
        type: 'neighbor',
        action: 'new',
        neighbor: expect.objectContaining({ family: 4, dst: '10.1.2.9', lladdr: '02:00:00:00:00:09', state: ['permanent'] }),
      }),
    ]);
  });

  it('ip addr del, ip link del: the address and what goes with it, then the link', () => {
    expect(shape(rtnl('addr-del'))[0]).toEqual(['address', 'del', true]);
    const del = rtnl('link-del');
    expect(del.at(-1)).toMatchObject({ type: 'link', action: 'del', link: { name: 'br0', kind: 'bridge' } });
  });

  it('an nft batch: table, chain, set, element (decoded with the set just seen), rule, then the generation', () => {
    const sets: SetCache = new Map();
    const evs = nft('nft-add', sets);
    expect(shape(evs)).toEqual([
      ['table', 'new', true],
      ['chain', 'new', true],
      ['set', 'new', true],
      ['element', 'new', true],
      ['rule', 'new', true],
      ['generation', 'new', true],
    ]);
    expect(evs[0]).toMatchObject({ table: { family: 'inet', name: 't' } });
    expect(evs[1]).toMatchObject({ chain: { table: 't', name: 'c', type: 'filter', hook: 'input', priority: 0, policy: 'accept' } });
    expect(evs[2]).toMatchObject({ set: { family: 'inet', table: 't', name: 's', key: 'ipv4_addr' } });
    const el = evs[3];
    expect(el).toMatchObject({ set: { family: 'inet', table: 't', name: 's' }, count: 1 });
    expect(el?.type === 'element' && el.elements?.map((e) => e.key.toString('hex'))).toEqual(['0a000001']);
    expect(evs[4]).toMatchObject({ rule: { family: 'inet', table: 't', chain: 'c' } });
    expect(evs[5]).toMatchObject({ type: 'generation', id: 2, process: 'nft' });
    // Every object of the batch carries the committing socket's port; so does NEWGEN.
    const ports = new Set(evs.map((e) => e && 'port' in e && e.port));
    expect(ports.size).toBe(1);
    expect(sets.has('inet/t/s')).toBe(true);
  });

  it('elements of a set the stream has not seen are named and counted, not decoded', () => {
    const el = fixture('nft-add').map((m) => decodeNftEvent(m, new Map()))[3];
    expect(el).toMatchObject({ type: 'element', set: { name: 's' }, count: 1 });
    expect(el?.type === 'element' && el.elements).toBeUndefined();
  });

  it('nft delete table: each object deleted, innermost first, then the generation; the set is forgotten', () => {
    const sets: SetCache = new Map();
    nft('nft-add', sets);
    const evs = nft('nft-delete', sets);
    expect(shape(evs)).toEqual([
      ['rule', 'del', true],
      ['set', 'del', true],
      ['chain', 'del', true],
      ['table', 'del', true],
      ['generation', 'new', true],
    ]);
    expect(sets.size).toBe(0);
  });

  it('a truncated notification is a DecodeError (the stream yields it as undecoded); other types are skipped', () => {
    const [m] = fixture('route-add');
    const cut = Buffer.from(m.buf.subarray(m.offset, m.offset + 40));
    cut.writeUInt32LE(40, 0);
    cut.writeUInt16LE(0xffff, 20); // an attribute running past the end
    let thrown: unknown;
    try {
      decodeRtnlEvent(splitMessages(cut)[0]);
    } catch (e) {
      thrown = e;
    }
    expect(isDecodeError(thrown)).toBe(true);
    expect(decodeRtnlEvent({ ...m, type: 0x30 })).toBeUndefined();
    expect(decodeNftEvent({ ...m, type: (1 << 8) | 0 }, new Map())).toBeUndefined();
  });
});
