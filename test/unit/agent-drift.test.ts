// The drift judge (src/agent/drift.ts), without the kernel: which events are
// drift for a role, which are the agent's own, and link events during a sync
// judged on their last state.
import { describe, expect, it } from 'vitest';
import { DriftJudge, wantedLinksOf } from '../../src/agent/drift.js';
import { wantedFdbAfter, wantedFdbOf } from '../../src/agent/drift-fdb.js';
import type { FdbSpec } from '../../src/rtnl/fdb.js';
import { fdbOnlyDelta } from '../../src/tx/fdb-delta.js';
import type { DesiredState } from '../../src/tx/desired.js';

const OWN = 4242;
const judgeFor = (role: 'cc' | 'nc' = 'nc') => {
  const j = new DriftJudge(role, (p) => p === OWN);
  // The state the last sync wanted: a bridge, a VXLAN device in it, a port in it.
  j.syncStarted();
  j.syncEnded(
    wantedLinksOf({
      links: [{ kind: 'bridge', name: 'eucabr10', up: true }, { kind: 'vxlan', name: 'eucavx10', id: 10, master: 'eucabr10', up: true } as never],
      ports: [{ name: 'vnet0', master: 'eucabr10', up: true }],
    }),
    // Its flood list: one remote host.
    wantedFdbOf({ fdb: [{ dev: 'eucavx10', lladdr: '00:00:00:00:00:00', dst: '10.0.0.1' }] }),
  );
  // The kernel's links as the subscription's dump reported them.
  j.judge({ type: 'link', action: 'new', existing: true, link: { index: 5, name: 'eucabr10', up: true } });
  j.judge({ type: 'link', action: 'new', existing: true, link: { index: 6, name: 'eucavx10', up: true, master: 5 } });
  j.judge({ type: 'link', action: 'new', existing: true, link: { index: 7, name: 'vnet0', up: true, master: 5 } });
  return j;
};

describe('DriftJudge', () => {
  it('a wanted bridge deleted, a port taken out of its bridge, a wanted link down: drift', () => {
    const j = judgeFor();
    expect(j.judge({ type: 'link', action: 'del', link: { index: 5, name: 'eucabr10', up: true } })).toBe('link eucabr10 deleted');
    const k = judgeFor();
    expect(k.judge({ type: 'link', action: 'new', link: { index: 7, name: 'vnet0', up: true } })).toBe('link vnet0 detached from eucabr10');
    expect(k.judge({ type: 'link', action: 'new', link: { index: 7, name: 'vnet0', up: false, master: 5 } })).toBe('link vnet0 down');
  });

  it('links the role does not want, and wanted links as wanted, are not drift', () => {
    const j = judgeFor();
    expect(j.judge({ type: 'link', action: 'new', link: { index: 7, name: 'vnet0', up: true, master: 5 } })).toBeUndefined();
    expect(j.judge({ type: 'link', action: 'del', link: { index: 9, name: 'eth7', up: true } })).toBeUndefined();
    expect(j.judge({ type: 'link', action: 'new', link: { index: 9, name: 'vnet9', up: false } })).toBeUndefined();
  });

  it("addresses and routes with the role's protocol changed by another socket are drift; the agent's own, or another role's, are not", () => {
    const j = judgeFor('nc');
    const addr = { address: '10.1.2.1', prefix: 27, proto: 242 };
    expect(j.judge({ type: 'address', action: 'del', port: 0, address: addr })).toBe('address 10.1.2.1/27 removed');
    expect(j.judge({ type: 'address', action: 'del', port: 999, address: addr })).toBe('address 10.1.2.1/27 removed');
    expect(j.judge({ type: 'address', action: 'new', port: OWN, address: addr })).toBeUndefined();
    expect(j.judge({ type: 'address', action: 'del', port: 0, address: { ...addr, proto: 241 } })).toBeUndefined();
    expect(j.judge({ type: 'route', action: 'del', port: 0, route: { dst: '10.1.0.0/16', protocol: 242 } })).toBe('route 10.1.0.0/16 removed');
    expect(j.judge({ type: 'route', action: 'new', port: OWN, route: { dst: '10.1.0.0/16', protocol: 242 } })).toBeUndefined();
  });

  it("changes in the role's nft tables by another socket are drift; other tables and the agent's own batches are not", () => {
    const cc = judgeFor('cc');
    expect(cc.judge({ type: 'table', action: 'del', port: 77, table: { name: 'eucanet' } })).toBe('nftables table in table eucanet removed');
    expect(cc.judge({ type: 'rule', action: 'del', port: 77, rule: { table: 'eucanet' } })).toBe('nftables rule in table eucanet removed');
    expect(cc.judge({ type: 'element', action: 'new', port: 77, set: { table: 'eucanet' } })).toBe('nftables element in table eucanet added or changed');
    expect(cc.judge({ type: 'rule', action: 'del', port: OWN, rule: { table: 'eucanet' } })).toBeUndefined();
    expect(cc.judge({ type: 'rule', action: 'del', port: 77, rule: { table: 'eucanet-nc' } })).toBeUndefined();
    expect(cc.judge({ type: 'table', action: 'del', port: 77, table: { name: 'filter' } })).toBeUndefined();
    expect(cc.judge({ type: 'generation', action: 'new', port: 77 } as never)).toBeUndefined();
  });

  it('lost events are a resync; dumped objects are never drift', () => {
    const j = judgeFor();
    expect(j.judge({ type: 'resync', source: 'rtnetlink' })).toBe('resync');
    expect(j.judge({ type: 'address', action: 'new', existing: true, port: 0, address: { address: '10.1.2.1', prefix: 27, proto: 242 } })).toBeUndefined();
  });

  it("during a sync a link's intermediate states are held, and only its last state is judged when the sync ends", () => {
    const j = judgeFor();
    j.syncStarted();
    // The agent re-creates the bridge and re-attaches the port: on the way the port has no master.
    expect(j.judge({ type: 'link', action: 'del', link: { index: 5, name: 'eucabr10', up: true } })).toBeUndefined();
    expect(j.judge({ type: 'link', action: 'new', link: { index: 7, name: 'vnet0', up: true } })).toBeUndefined();
    expect(j.judge({ type: 'link', action: 'new', link: { index: 11, name: 'eucabr10', up: true } })).toBeUndefined();
    expect(j.judge({ type: 'link', action: 'new', link: { index: 7, name: 'vnet0', up: true, master: 11 } })).toBeUndefined();
    expect(j.syncEnded(undefined)).toEqual([]);
    // Someone takes the port out while a sync runs: its last state says so after the sync.
    j.syncStarted();
    j.judge({ type: 'link', action: 'new', link: { index: 7, name: 'vnet0', up: true } });
    expect(j.syncEnded(undefined)).toEqual(['link vnet0 detached from eucabr10']);
  });

  it("a wanted FDB entry deleted by another socket is drift; the agent's own deletes, other entries and other devices are not", () => {
    const flood = { family: 'bridge', index: 6, lladdr: '00:00:00:00:00:00', dst: '10.0.0.1' };
    const del = (port: number, neighbor: typeof flood) => ({ type: 'neighbor' as const, action: 'del' as const, port, neighbor });
    const j = judgeFor();
    expect(j.judge(del(0, flood))).toBe('fdb entry 00:00:00:00:00:00 dst 10.0.0.1 on eucavx10 deleted');
    expect(j.judge(del(77, { ...flood, lladdr: '00:00:00:00:00:00'.toUpperCase() }))).toBe('fdb entry 00:00:00:00:00:00 dst 10.0.0.1 on eucavx10 deleted');
    expect(j.judge(del(OWN, flood))).toBeUndefined();
    expect(j.judge(del(0, { ...flood, dst: '10.0.0.9' }))).toBeUndefined();
    expect(j.judge(del(0, { ...flood, index: 7 }))).toBeUndefined();
    expect(j.judge({ ...del(0, flood), action: 'new' })).toBeUndefined();
    expect(j.judge({ ...del(0, flood), existing: true })).toBeUndefined();
    expect(j.judge(del(0, { ...flood, family: 'inet' }))).toBeUndefined();
  });

  it('FDB deletes during a sync are judged when it ends, against what it then wants', () => {
    const flood = { family: 'bridge', index: 6, lladdr: '00:00:00:00:00:00', dst: '10.0.0.1' };
    const j = judgeFor();
    j.syncStarted();
    expect(j.judge({ type: 'neighbor', action: 'del', port: 0, neighbor: flood })).toBeUndefined();
    // The sync removed that host from the flood list: not drift.
    expect(j.syncEnded(undefined, wantedFdbOf({ fdb: [] }))).toEqual([]);
    const k = judgeFor();
    k.syncStarted();
    k.judge({ type: 'neighbor', action: 'del', port: 0, neighbor: flood });
    expect(k.syncEnded(undefined)).toEqual(['fdb entry 00:00:00:00:00:00 dst 10.0.0.1 on eucavx10 deleted']);
  });

  it('an FDB delta patches the wanted set the judge has: the event of its own delete makes nothing again', () => {
    const flood = { dev: 'eucavx10', lladdr: '00:00:00:00:00:00', dst: '10.0.0.2' };
    const mac = { dev: 'eucavx10', lladdr: 'D0:0D:0A:01:02:05', dst: '10.0.0.3' };
    /** A desired state that counts the reads of its FDB (each a walk over every entry in a big cloud). */
    let reads = 0;
    const desired = (fdb: FdbSpec[]): DesiredState => ({
      get fdb() {
        reads++;
        return fdb;
      },
    });
    const j = judgeFor();
    const ev = (n: FdbSpec) => ({ type: 'neighbor', action: 'del', port: 0, neighbor: { family: 'bridge', index: 6, lladdr: n.lladdr, dst: n.dst } });
    j.syncStarted();
    j.syncEnded(undefined, wantedFdbAfter(desired([flood]), undefined));
    expect(j.judge(ev(flood))).toBe('fdb entry 00:00:00:00:00:00 dst 10.0.0.2 on eucavx10 deleted');
    expect(reads).toBe(1);
    // A sync deletes the flood entry and adds a MAC: the kernel's event of that delete comes during it.
    j.syncStarted();
    expect(j.judge(ev(flood))).toBeUndefined();
    const delta = fdbOnlyDelta({ add: [mac], del: [flood] });
    expect(j.syncEnded(undefined, wantedFdbAfter(desired([mac]), delta))).toEqual([]);
    expect(reads, 'the set patched, not made again').toBe(1);
    // Someone else deletes the new MAC: drift (the MAC's case does not matter).
    expect(j.judge(ev({ ...mac, lladdr: mac.lladdr.toLowerCase() }))).toBe('fdb entry d0:0d:0a:01:02:05 dst 10.0.0.3 on eucavx10 deleted');
    expect(j.judge(ev(flood))).toBeUndefined();
    expect(reads).toBe(1);
    // A delta whose links changed (the FDB was read and reconciled whole): the set is made again, when needed.
    j.syncStarted();
    j.syncEnded(undefined, wantedFdbAfter(desired([flood]), { ...delta, links: true }));
    expect(j.judge(ev(flood))).toBeDefined();
    expect(reads).toBe(2);
  });

  it('the wanted links and FDB may be given as functions: made only when an event needs them, once', () => {
    const j = judgeFor();
    let links = 0;
    let fdb = 0;
    const wantedLinks = () => (
      links++,
      wantedLinksOf({ links: [{ kind: 'bridge', name: 'eucabr10', up: true }], ports: [{ name: 'vnet0', master: 'eucabr10', up: true }] })
    );
    const wantedFdb = () => (fdb++, wantedFdbOf({ fdb: [{ dev: 'eucavx10', lladdr: '00:00:00:00:00:00', dst: '10.0.0.1' }] }));
    j.syncStarted();
    // A sync with no event during it (an nft-only version): neither is made.
    expect(j.syncEnded(wantedLinks, wantedFdb)).toEqual([]);
    expect([links, fdb]).toEqual([0, 0]);
    // Then a port taken out of its bridge and a flood entry deleted by someone else: each made once.
    expect(j.judge({ type: 'link', action: 'new', link: { index: 7, name: 'vnet0', up: true } })).toBe('link vnet0 detached from eucabr10');
    expect(j.judge({ type: 'link', action: 'new', link: { index: 7, name: 'vnet0', up: true } })).toBe('link vnet0 detached from eucabr10');
    const flood = { family: 'bridge', index: 6, lladdr: '00:00:00:00:00:00', dst: '10.0.0.1' };
    expect(j.judge({ type: 'neighbor', action: 'del', port: 0, neighbor: flood })).toBe('fdb entry 00:00:00:00:00:00 dst 10.0.0.1 on eucavx10 deleted');
    expect(j.judge({ type: 'neighbor', action: 'del', port: 0, neighbor: flood })).toBeDefined();
    expect([links, fdb]).toEqual([1, 1]);
    // A sync ending with undefined keeps them as they are (not made again).
    j.syncStarted();
    j.syncEnded(undefined, undefined);
    expect(j.judge({ type: 'link', action: 'new', link: { index: 7, name: 'vnet0', up: true } })).toBe('link vnet0 detached from eucabr10');
    expect([links, fdb]).toEqual([1, 1]);
  });

  it("a bridge's notification that a port left it (AF_BRIDGE RTM_DELLINK) says detached, not deleted", () => {
    const j = judgeFor();
    expect(j.judge({ type: 'link', action: 'del', bridge: true, link: { index: 7, name: 'vnet0', up: true, master: 5 } })).toBe(
      'link vnet0 detached from eucabr10',
    );
    // The port itself deleted: the link's own notification says so.
    expect(j.judge({ type: 'link', action: 'del', link: { index: 7, name: 'vnet0', up: true } })).toBe('link vnet0 deleted');
  });
});
