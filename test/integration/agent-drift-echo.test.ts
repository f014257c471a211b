// The echo of the agent's own changes is never drift, however late the event
// loop reads it. A drift sync that re-creates a deleted tap makes it (no
// master yet) and then puts it in its bridge; if the first echo were judged
// after the sync ended, it would look like "a port out of its bridge" and a
// needless sync would follow (issue 19: a synchronous nft commit made that
// happen 1 run in 3). Here the loop is kept from reading the namespace's
// events for the whole drift sync, deterministically: the agent's own event
// sockets (the real NetnsEvents) are paused when the deletion is heard and
// resumed only when the sync reports, so every echo is still in the kernel's
// socket buffer when the sync ends. The agent must hear them as part of the
// sync (NetnsEvents.settle reads the sockets at its end): no further sync.
// And a foreign change in that same window (the re-made tap taken out of its
// bridge by `ip` after the agent put it there, before its end is judged) is
// still drift, and repaired. Root.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Agent } from '../../src/agent/agent.js';
import { StoreSource } from '../../src/agent/store-source.js';
import { NetnsEvents } from '../../src/agent/netns-events.js';
import type { DriftSource, SyncResult } from '../../src/agent/types.js';
import type { JudgedEvent } from '../../src/agent/drift.js';
import type { EventStream } from '../../src/events/stream.js';
import type { Subscription } from '../../src/netlink/subscription.js';
import { FileStore } from '../../src/store/file.js';
import { repoRoot } from '../helpers/cli.js';
import { ipLinks, isRoot, withNetns } from '../helpers/netns.js';

const dir = mkdtempSync(join(tmpdir(), 'eucanet-drift-echo-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const seed = { ...JSON.parse(readFileSync(join(repoRoot, 'examples/seed.json'), 'utf8')), segmentation: 'vxlan' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const taps = (ns: string) => ipLinks(ns).filter((l) => l.linkinfo?.info_kind === 'tun');
type LinkEvent = Extract<JudgedEvent, { type: 'link' }>;

/** The real NetnsEvents, whose sockets the test can stop reading (as a loop too busy to poll them would). */
class HeldEvents implements DriftSource {
  readonly inner: NetnsEvents;
  /** Link events of `watch`, with whether they came after reading was held and released (the sync's end). */
  readonly seen: { ev: LinkEvent; late: boolean }[] = [];
  held = false;
  released = false;
  watch?: string;
  onLink?: (ev: LinkEvent) => void;

  constructor(ns: string) {
    this.inner = new NetnsEvents(ns);
  }
  private get subs(): Subscription[] {
    const streams = (this.inner as unknown as { streams: EventStream[] }).streams;
    return streams.flatMap((s) => (s as unknown as { subs: Subscription[] }).subs);
  }
  hold(): void {
    this.held = true;
    for (const s of this.subs) s.pause();
  }
  release(): void {
    if (this.held) this.released = true;
    this.held = false;
    for (const s of this.subs) s.resume();
  }
  start(on: (ev: JudgedEvent) => void): Promise<void> {
    return this.inner.start((ev) => {
      const l = ev.type === 'link' && 'link' in ev ? ev : undefined;
      if (l && l.link.name === this.watch) this.seen.push({ ev: l, late: this.released });
      on(ev);
      if (l) this.onLink?.(l);
    });
  }
  stop(): Promise<void> {
    return this.inner.stop();
  }
  settle(): Promise<void> {
    return this.inner.settle();
  }
}

/** An NC agent on the seed, started and watching; `fn` gets it, its events and its sync results. */
async function withAgent(name: string, fn: (ns: string, a: Agent, ev: HeldEvents, seen: SyncResult[]) => Promise<void>): Promise<void> {
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(seed));
  await withNetns(async (ns) => {
    execFileSync('ip', ['-n', ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth1']);
    const store = new FileStore(file);
    const events = new HeldEvents(ns);
    const a = new Agent({ role: { role: 'nc', node: 'nc1' }, netns: ns, source: new StoreSource(store), resyncSeconds: 0, warmUp: false, drift: events });
    const seen: SyncResult[] = [];
    a.on('sync', (r) => seen.push(r));
    try {
      expect(await a.start()).toMatchObject({ result: 'ok', mode: 'full' });
      await sleep(300);
      expect(seen).toHaveLength(1);
      await fn(ns, a, events, seen);
    } finally {
      events.release();
      await a.stop();
      await store.close();
    }
  }, name);
}

/** Deletes a tap with `ip` and holds the agent's event reading from the moment it hears that until its next sync reports. */
function deleteHeld(ns: string, a: Agent, events: HeldEvents, onReport?: (tap: string) => void): string {
  const tap = taps(ns).find((l) => l.master !== undefined)!.ifname as string;
  events.watch = tap;
  events.onLink = (ev) => {
    if (ev.link.name !== tap || ev.action !== 'del' || events.held) return;
    events.onLink = undefined;
    events.hold();
    a.once('sync', () => {
      onReport?.(tap);
      events.release();
    });
  };
  execFileSync('ip', ['-n', ns, 'link', 'del', tap]);
  return tap;
}

const waitFor = async (seen: SyncResult[], n: number) => {
  for (const t0 = Date.now(); seen.length < n && Date.now() - t0 < 10_000;) await sleep(20);
};

describe.skipIf(!isRoot)("the agent's own echoes, read late, are not drift (root)", () => {
  it('a tap re-made by a drift sync whose echoes are all read after it ended: no further sync', async () => {
    await withAgent('eudec', async (ns, a, events, seen) => {
      const tap = deleteHeld(ns, a, events);
      await waitFor(seen, 2);
      await sleep(500);
      const trail = JSON.stringify(seen.map((r) => [r.trigger, r.ops, r.drift]));
      expect(seen, trail).toHaveLength(2);
      expect(seen[1]).toMatchObject({ trigger: 'drift', result: 'ok' });
      expect(seen[1].drift?.join(), trail).toContain(`link ${tap} `);
      expect(seen[1].ops).toBeGreaterThan(0);
      // The re-made tap's echoes were all read after the sync reported: the case under test happened.
      const late = events.seen.filter((s) => s.late && s.ev.action === 'new');
      expect(late.length, JSON.stringify(events.seen)).toBeGreaterThan(0);
      expect(late.some((s) => s.ev.link.master === undefined)).toBe(true);
      const now = ipLinks(ns).find((l) => l.ifname === tap);
      expect(now?.master).toBeDefined();
      expect(now?.flags).toContain('UP');
      expect(await a.sync('sighup')).toMatchObject({ result: 'ok', ops: 0 });
    });
  }, 30_000);

  it('a foreign change in that window (the re-made tap taken out of its bridge before the end is judged) is drift, and repaired', async () => {
    await withAgent('eudef', async (ns, a, events, seen) => {
      let bridge: string | undefined;
      const tap = deleteHeld(ns, a, events, (t) => {
        bridge = ipLinks(ns).find((l) => l.ifname === t)?.master as string | undefined;
        execFileSync('ip', ['-n', ns, 'link', 'set', t, 'nomaster']);
      });
      await waitFor(seen, 3);
      await sleep(300);
      const trail = JSON.stringify(seen.map((r) => [r.trigger, r.ops, r.drift]));
      expect(bridge, trail).toBeDefined();
      expect(seen, trail).toHaveLength(3);
      expect(seen[2]).toMatchObject({ trigger: 'drift', result: 'ok', drift: [`link ${tap} detached from ${bridge}`] });
      expect(seen[2].ops).toBeGreaterThan(0);
      expect(ipLinks(ns).find((l) => l.ifname === tap)?.master).toBe(bridge);
    });
  }, 30_000);
});
