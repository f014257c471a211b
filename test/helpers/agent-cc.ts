// A CC agent on a file store in a namespace of its own (with eth0/eth1, its
// dnsmasq's state in a directory of its own), for the tests of its quick
// syncs (agent-cc-instances, agent-cc-rules): started with a full sync,
// without drift events or the warm-up (whose rehearsals read the kernel, and
// the quick syncs must be seen reading nothing they need not); stopped, its
// dnsmasq and namespace removed, whatever the test does. And the oracle of a
// quick sync: a full apply of the same version right after must send nothing
// and leave the kernel as it found it.
import { join } from 'node:path';
import { expect } from 'vitest';
import { Agent } from '../../src/agent/agent.js';
import { StoreSource } from '../../src/agent/store-source.js';
import type { SyncResult } from '../../src/agent/types.js';
import type { OpResult } from '../../src/managed/ops/result.js';
import type { State } from '../../src/managed/types.js';
import { FileStore } from '../../src/store/file.js';
import { writeFileAtomic } from '../../src/util/file.js';
import { kernelOf, writeAndSync } from './agent-kernel.js';
import { nsExec, withNetns } from './netns.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface Cc {
  store: FileStore;
  agent: Agent;
  ns: string;
  seen: SyncResult[];
  stateDir: string;
}

/** Runs `fn` with a CC agent of `cloud` (its files under `dir`, its namespace named from `prefix`). */
export async function withCc(dir: string, cloud: unknown, prefix: string, fn: (cc: Cc) => Promise<void>): Promise<void> {
  const file = join(dir, `cloud-${Math.random().toString(16).slice(2)}.json`);
  await writeFileAtomic(file, JSON.stringify(cloud));
  const store = new FileStore(file);
  await withNetns(async (ns) => {
    nsExec(ns, 'ip', ['link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth1']);
    const stateDir = join(dir, `dhcp-${ns}`);
    const agent = new Agent({
      role: { role: 'cc' },
      netns: ns,
      source: new StoreSource(store),
      drift: false,
      resyncSeconds: 0,
      dhcpOptions: { stateDir },
      warmUp: false,
    });
    const seen: SyncResult[] = [];
    let dnsmasq: number | undefined;
    agent.on('sync', (r) => {
      seen.push(r);
      dnsmasq = r.dnsmasqPid ?? dnsmasq;
    });
    try {
      expect(await agent.start()).toMatchObject({ result: 'ok', mode: 'full', dhcp: 'start' });
      await fn({ store, agent, ns, seen, stateDir });
    } finally {
      await agent.stop();
      if (dnsmasq !== undefined) process.kill(dnsmasq, 'SIGTERM');
    }
  }, prefix);
  await store.close();
}

/** Writes an operation and resolves with the agent's sync of it. */
export const write = (cc: Cc, op: (s: State) => OpResult): Promise<SyncResult> => writeAndSync(cc.store, cc.seen, op);

/** A full apply of the version in hand: nothing to send, dnsmasq's files as it would write them, the kernel as it was. */
export async function fullFindsNothing(cc: Cc, what: string): Promise<void> {
  await sleep(300); // DHCP's step after the sync (the hosts file rewritten, or a reload after a removal)
  const before = kernelOf(cc.ns);
  const r = await cc.agent.sync('sighup');
  expect(r, `${what}: a full apply after the fast one`).toMatchObject({ result: 'ok', mode: 'full', ops: 0, dhcp: 'unchanged' });
  expect(kernelOf(cc.ns), `${what}: the kernel after a full apply`).toEqual(before);
}
