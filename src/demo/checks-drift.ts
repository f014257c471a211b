// 11. Drift (agents only): a stranger deletes the default group's bridge on
// nc1 (through the library, on its own handle, as any other program would);
// nc1's agent hears it from the namespace's events and puts it back, and the
// traffic to #1 comes back. Reported: what the agent's sync saw and did, and
// the time from the delete to the first answered connection.
import type { SyncResult } from '../agent/index.js';
import { bridgeOf } from '../managed/roles/names.js';
import { must } from '../util/must.js';
import { ENFORCE_MS, show, sleep, until, type CheckRow, type Ctx } from './check-context.js';
import { ncNetns, NS_PUB } from './topology.js';

const repaired = (s: SyncResult) => s.result === 'ok' && s.ops > 0;

export async function drift(x: Ctx): Promise<CheckRow> {
  const a = x.inst(1);
  const ip = must(a.publicIp, "#1's public IP");
  const bridge = bridgeOf(x.c.state, x.group(a));
  const agent = must(x.c.ctl.agent(a.node), `the agent of ${a.node}`);
  const pub = x.responder(NS_PUB);
  const name = `11 drift: delete ${bridge} (#1's group bridge) on ${a.node} by hand, connect euca-pub -> ${ip}:22 until answered`;
  const expected = `${a.node}'s agent repairs it (a sync with ops after the delete, usually triggered by drift) and "${a.id}" answers again within ${ENFORCE_MS} ms`;
  const before = await pub.connect(ip, 22);
  if (before.data !== a.id) return { name, expected, observed: `before the delete: ${show(before)}, not "${a.id}": nothing to restore`, pass: false };
  const repairs: Array<SyncResult & { at: number }> = [];
  const onSync = (s: SyncResult) => {
    // Any sync after the delete: usually triggered by drift; by a resync when the delete's burst of
    // events overflowed the agent's socket (ENOBUFS: many ports); or a store sync that was due anyway.
    repairs.push({ ...s, at: performance.now() });
  };
  agent.on('sync', onSync);
  let t0 = 0;
  let back: Awaited<ReturnType<typeof until>>;
  try {
    const h = x.c.hosts.get(ncNetns(a.node));
    t0 = performance.now();
    await h.links.delete(bridge);
    back = await until(
      (t) => pub.connect(ip, 22, { timeoutMs: t }),
      (r) => r.data === a.id,
      ENFORCE_MS,
      50,
      1000,
    );
    // The agent logs its sync once done: the traffic may be back a little before that line arrives.
    const end = performance.now() + ENFORCE_MS;
    while (!repairs.some(repaired) && performance.now() < end) await sleep(10);
  } finally {
    agent.off('sync', onSync);
  }
  const exists = (await x.c.hosts.get(ncNetns(a.node)).links.get(bridge)) !== undefined;
  const fix = repairs.find(repaired);
  const seen = fix
    ? `${a.node}'s agent synced (${fix.triggers.join('+')}: ${(fix.drift ?? []).join('; ') || '?'}; ${fix.ops} ops in ${fix.ms.toFixed(0)} ms), done ${(fix.at - t0).toFixed(0)} ms after the delete`
    : `no repairing sync from ${a.node}'s agent (${repairs.length} syncs, none with ops)`;
  return {
    name,
    expected,
    observed: `before: ${show(before)}; ${seen}; ${bridge} ${exists ? 'is back' : 'is missing'}; ${
      back ? `the first answered connection began ${(back.at - t0).toFixed(0)} ms after the delete: ${show(back.r)}` : `no answer within ${ENFORCE_MS} ms`
    }`,
    pass: before.data === a.id && fix !== undefined && exists && back !== undefined,
  };
}
