// The conntrack step at the cost of what changed (ct-reconcile.ts natChangeOf,
// apply-snapshot.ts ctOwedSince): after a step that left no entry stale under
// the old maps, judging only the entries of the changed addresses under the
// new maps finds exactly what judging the whole table finds. Checked over
// random maps and random tables (seeded), and the owed addresses accumulated
// while the step has not run.
import { describe, expect, it } from 'vitest';
import type { CtEntry, CtProtocol } from '../../src/conntrack/index.js';
import { ctOwedSince, natKeyOf, type AppliedSnapshot } from '../../src/managed/apply-snapshot.js';
import { natChangeOf, natMapsOf, staleConntrack, type NatChange, type NatMaps } from '../../src/managed/ct-reconcile.js';
import type { AllocatedState } from '../../src/managed/types.js';

const PUB = Array.from({ length: 6 }, (_, k) => `192.168.32.${200 + k}`);
const PRIV = Array.from({ length: 6 }, (_, k) => `10.1.0.${2 + k}`);
const OTHER = ['192.168.32.1', '8.8.8.8', '192.168.32.20'];

function mapsOf(pairs: Array<[string, string]>, publicIps = ['192.168.32.200-192.168.32.210']): NatMaps {
  const instances = PRIV.map((privateIp) => {
    const p = pairs.find(([, x]) => x === privateIp);
    return p ? { privateIp, publicIp: p[0] } : { privateIp };
  });
  return natMapsOf({ subnet: '10.1.0.0/16', publicIps, instances } as unknown as AllocatedState);
}

/** A seeded generator (mulberry32): a failure replays. */
function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomPairs(r: () => number): Array<[string, string]> {
  const privs = [...PRIV].sort(() => r() - 0.5);
  const pubs = [...PUB].sort(() => r() - 0.5);
  const n = Math.floor(r() * PRIV.length);
  return Array.from({ length: n }, (_, k) => [pubs[k], privs[k]] as [string, string]);
}

let id = 1;
function randomEntry(r: () => number): CtEntry {
  const any = [...PUB, ...PRIV, ...OTHER];
  const pick = () => any[Math.floor(r() * any.length)];
  const protocol: CtProtocol = r() < 0.5 ? 'tcp' : 'udp';
  const l4 = { sport: 40000 + Math.floor(r() * 100), dport: 5000 };
  const o = { src: pick(), dst: pick(), ...l4 };
  const reply = { src: r() < 0.5 ? o.dst : pick(), dst: r() < 0.5 ? o.src : pick(), ...l4 };
  return { family: 'ipv4', protocol, orig: o, reply, status: 0, statusNames: [], mark: 0, zone: 0, id: id++ };
}

/** The CC's own addresses under maps m: the mapped public addresses, and its own. */
const localOf = (m: NatMaps) => new Set([...m.pub2priv.keys(), '192.168.32.20']);
const touches = (c: NatChange, e: CtEntry) => c.pub.has(e.orig.dst) || c.pub.has(e.orig.src) || c.priv.has(e.orig.src);

describe('the conntrack step over the changed addresses only', () => {
  it('finds what the whole table finds, over 3000 random cases (seeded)', () => {
    const r = rng(17);
    let compared = 0;
    for (let n = 0; n < 3000; n++) {
      const m0 = mapsOf(randomPairs(r));
      const m1 = mapsOf(randomPairs(r));
      // A table the last step left clean: what survives judging under m0.
      const made = Array.from({ length: 30 }, () => randomEntry(r));
      const stale0 = new Set(staleConntrack(m0, made, localOf(m0)).map((s) => s.entry));
      const table = made.filter((e) => !stale0.has(e));
      const change = natChangeOf(m0, m1);
      expect(change).toBeDefined();
      const full = staleConntrack(m1, table, localOf(m1)).map((s) => s.entry.id);
      const only = staleConntrack(
        m1,
        table.filter((e) => touches(change!, e)),
        localOf(m1),
      ).map((s) => s.entry.id);
      expect(only).toEqual(full);
      compared += full.length;
    }
    // The cases did find stale entries (the comparison was not of empty lists).
    expect(compared).toBeGreaterThan(1000);
  });

  it('names the public and private addresses whose mappings changed, nothing else', () => {
    const m0 = mapsOf([
      [PUB[0], PRIV[0]],
      [PUB[1], PRIV[1]],
    ]);
    const m1 = mapsOf([
      [PUB[0], PRIV[2]],
      [PUB[1], PRIV[1]],
      [PUB[3], PRIV[3]],
    ]);
    const c = natChangeOf(m0, m1)!;
    expect([...c.pub].sort()).toEqual([PUB[0], PUB[3]]);
    expect([...c.priv].sort()).toEqual([PRIV[0], PRIV[2], PRIV[3]]);
    expect(natChangeOf(m0, m0)).toEqual({ pub: new Set(), priv: new Set() });
  });

  it('the whole table when the pool changed', () => {
    expect(natChangeOf(mapsOf([]), mapsOf([], ['192.168.32.200-192.168.32.220']))).toBeUndefined();
  });
});

describe('ctOwedSince', () => {
  const snap = (nat: NatMaps, extra: Partial<AppliedSnapshot> = {}): AppliedSnapshot => ({ desired: {}, nat, ...extra });
  const a = mapsOf([[PUB[0], PRIV[0]]]);
  const b = mapsOf([
    [PUB[0], PRIV[0]],
    [PUB[1], PRIV[1]],
  ]);
  const c = mapsOf([[PUB[1], PRIV[1]]]);

  it('after a step that succeeded: what changed since', () => {
    const owed = ctOwedSince(snap(a, { natKey: natKeyOf(a) }), b)!;
    expect([...owed.pub]).toEqual([PUB[1]]);
    expect([...owed.priv]).toEqual([PRIV[1]]);
  });

  it('while a step is owed: its addresses and the new changes', () => {
    const owed = ctOwedSince(snap(b, { ctOwed: { pub: new Set([PUB[1]]), priv: new Set([PRIV[1]]) } }), c)!;
    expect([...owed.pub].sort()).toEqual([PUB[0], PUB[1]]);
    expect([...owed.priv].sort()).toEqual([PRIV[0], PRIV[1]]);
  });

  it('the whole table when nothing says what is owed: no maps, or a step owed for the whole table', () => {
    expect(ctOwedSince(undefined, a)).toBeUndefined();
    expect(ctOwedSince({ desired: {} }, a)).toBeUndefined();
    expect(ctOwedSince(snap(b), c)).toBeUndefined();
  });
});
