// 10. A public address moves while a stream runs: euca-pub streams UDP to
// .200 (one conntrack entry on the CC: a fixed source port, a datagram every
// 50 ms), .200 moves from #1 to #2 through the controller (the store and the
// agents; or --direct's ManagedCloud), and the stream must reach #2 once the
// CC has applied the association, never #1 again: the CC's apply deletes the
// conntrack entries the new NAT maps no longer match (issue 15). Everything is
// put back afterwards.
import type { Rule } from '../managed/types.js';
import { must } from '../util/must.js';
import type { StreamReply } from './responder-stream.js';
import { ENFORCE_MS, MOVE_SPORT, MOVE_UDP_PORT, sleep, type CheckRow, type Ctx } from './check-context.js';
import { NS_PUB } from './topology.js';

/** --direct: within this long of the association's apply, the stream must reach #2. */
const MOVE_MS = 1000;

function summary(rs: StreamReply[]): string {
  const by = new Map<string, number>();
  for (const r of rs) by.set(r.data, (by.get(r.data) ?? 0) + 1);
  return [...by].map(([who, n]) => `${n} from ${who}`).join(', ') || 'no answer';
}

export async function move(x: Ctx): Promise<CheckRow> {
  const [a, b] = [x.inst(1), x.inst(2)];
  const [p, p2] = [must(a.publicIp, "#1's public IP"), must(b.publicIp, "#2's public IP")];
  const ctl = x.c.ctl;
  const pub = x.responder(NS_PUB);
  const rule: Rule = { protocol: 'udp', from: MOVE_UDP_PORT, to: MOVE_UDP_PORT, cidr: '0.0.0.0/0' };
  const how = ctl.mode === 'agents' ? 'written to the store, applied by the agents' : 'applied by ManagedCloud';
  const window = ctl.mode === 'agents' ? ENFORCE_MS : MOVE_MS;
  const name = `10 move: authorize udp/${MOVE_UDP_PORT}; a UDP stream euca-pub -> ${p}:${MOVE_UDP_PORT} runs while ${p} moves from #1 to #2 (disassociate #2's ${p2} and #1's ${p}, associate ${p} with #2; ${how}); then all put back`;
  const expected = `answers from "${a.id}" before; from "${b.id}" within ${window} ms of the association returning, never "${a.id}" again (its stale conntrack entries deleted)`;
  await ctl.authorize(a.group, rule);
  await ctl.settled();
  let [t1, t2, settledMs] = [0, 0, 0];
  let got: { sent: number; replies: StreamReply[] } = { sent: 0, replies: [] };
  await pub.streamStart(p, MOVE_UDP_PORT, MOVE_SPORT);
  const t0 = Date.now();
  try {
    await sleep(500);
    t1 = Date.now();
    await ctl.disassociate(p2, b.id);
    await ctl.disassociate(p, a.id);
    await ctl.associate(p, b.id);
    t2 = Date.now();
    settledMs = await ctl.settled(window);
    if (ctl.mode === 'agents') {
      // The CC deletes the stale conntrack entry after its sync is reported
      // (side work: agent.ts afterConntrack), so "every agent applied it" is
      // not yet "the stream moved"; on a loaded machine the step can come
      // later than a fixed wait. Wait for #2's first answer (at most the
      // window), then watch the stream a while longer for #1.
      const moved = async () => (await pub.streamPeek(MOVE_SPORT)).replies.some((r) => r.t >= t2 && r.data === b.id);
      while (Date.now() - t2 <= window && !(await moved())) await sleep(50);
      await sleep(600);
    } else await sleep(MOVE_MS + 200);
  } finally {
    got = await pub.streamStop(MOVE_SPORT);
    await ctl.disassociate(p, b.id).catch(() => undefined);
    await ctl.associate(p, a.id).catch(() => undefined);
    await ctl.associate(p2, b.id).catch(() => undefined);
    await ctl.revoke(a.group, rule).catch(() => undefined);
    await ctl.settled();
  }
  const before = got.replies.filter((r) => r.t < t1);
  const after = got.replies.filter((r) => r.t >= t2);
  const first = after.find((r) => r.data === b.id);
  const since = first ? got.replies.filter((r) => r.t >= first.t) : [];
  const reached = first !== undefined && first.t - t2 <= window;
  const agents = ctl.mode === 'agents' ? `, every agent had applied it ${settledMs.toFixed(0)} ms after` : '';
  return {
    name,
    expected,
    observed:
      `before: ${summary(before)} in ${t1 - t0} ms; moved in ${t2 - t1} ms (3 operations${agents}); ` +
      `${first ? `first answer from ${b.id} ${first.t - t2} ms after the association returned` : `no answer from ${b.id}`}; after: ${summary(after)}`,
    pass: before.length > 0 && before.every((r) => r.data === a.id) && reached && since.every((r) => r.data === b.id),
  };
}
