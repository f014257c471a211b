// 10. A public address moves while a stream runs: euca-pub streams UDP to
// .200 (one conntrack entry on the CC: a fixed source port, a datagram every
// 50 ms), .200 moves from #1 to #2, and the stream must reach #2 from the
// apply that associates it on, never #1 again: the CC's apply deletes the
// conntrack entries the new NAT maps no longer match (issue 15). Everything is
// put back afterwards.
import type { Rule } from '../managed/types.js';
import { must } from '../util/must.js';
import type { StreamReply } from './responder-stream.js';
import { MOVE_SPORT, MOVE_UDP_PORT, sleep, type CheckRow, type Ctx } from './check-context.js';
import { NS_PUB } from './topology.js';

/** Within this long of the association's apply, the stream must reach #2. */
const MOVE_MS = 1000;

function summary(rs: StreamReply[]): string {
  const by = new Map<string, number>();
  for (const r of rs) by.set(r.data, (by.get(r.data) ?? 0) + 1);
  return [...by].map(([who, n]) => `${n} from ${who}`).join(', ') || 'no answer';
}

export async function move(x: Ctx): Promise<CheckRow> {
  const [a, b] = [x.inst(1), x.inst(2)];
  const [p, p2] = [must(a.publicIp, "#1's public IP"), must(b.publicIp, "#2's public IP")];
  const cloud = x.c.cloud;
  const pub = x.responder(NS_PUB);
  const rule: Rule = { protocol: 'udp', from: MOVE_UDP_PORT, to: MOVE_UDP_PORT, cidr: '0.0.0.0/0' };
  const name = `10 move: authorize udp/${MOVE_UDP_PORT}; a UDP stream euca-pub -> ${p}:${MOVE_UDP_PORT} runs while ${p} moves from #1 to #2 (disassociate #2's ${p2} and #1's ${p}, associate ${p} with #2); then all put back`;
  const expected = `answers from "${a.id}" before; from "${b.id}" only within ${MOVE_MS} ms of the association's apply (its stale conntrack entries deleted)`;
  await cloud.authorize(a.group, rule);
  let t1 = 0;
  let t2 = 0;
  let got: { sent: number; replies: StreamReply[] } = { sent: 0, replies: [] };
  await pub.streamStart(p, MOVE_UDP_PORT, MOVE_SPORT);
  const t0 = Date.now();
  try {
    await sleep(500);
    t1 = Date.now();
    await cloud.disassociateAddress(b.id);
    await cloud.disassociateAddress(a.id);
    await cloud.associateAddress(p, b.id);
    t2 = Date.now();
    await sleep(MOVE_MS + 200);
  } finally {
    got = await pub.streamStop(MOVE_SPORT);
    await cloud.disassociateAddress(b.id).catch(() => undefined);
    await cloud.associateAddress(p, a.id).catch(() => undefined);
    await cloud.associateAddress(p2, b.id).catch(() => undefined);
    await cloud.revoke(a.group, rule).catch(() => undefined);
  }
  const before = got.replies.filter((r) => r.t < t1);
  const after = got.replies.filter((r) => r.t >= t2);
  const first = after.find((r) => r.data === b.id);
  const late = after.filter((r) => r.t >= t2 + 100);
  const reached = first !== undefined && first.t - t2 <= MOVE_MS;
  return {
    name,
    expected,
    observed:
      `before: ${summary(before)} in ${t1 - t0} ms; moved in ${t2 - t1} ms (3 applies); ` +
      `${first ? `first answer from ${b.id} ${first.t - t2} ms after the association's apply returned` : `no answer from ${b.id}`}; after: ${summary(after)}`,
    pass: before.length > 0 && before.every((r) => r.data === a.id) && reached && late.every((r) => r.data === b.id),
  };
}
