// The checks made from the public side: DNAT and the ingress rules (1, 2),
// SNAT and MASQUERADE seen by the public client (5), revoke and authorize (9).
import type { Rule } from '../managed/types.js';
import { CC_PUBLIC_IP, NS_PUB, PUB_IP } from './topology.js';
import { DROP_MS, ENFORCE_MS, PEER_PORT, show, until, type CheckRow, type Ctx } from './check-context.js';
import { must } from '../util/must.js';

// 1. euca-pub reaches #1 at 192.168.32.200:22 and gets #1's id; .201:22 reaches #2.
export async function publicSsh(x: Ctx): Promise<CheckRow> {
  const pub = x.responder(NS_PUB);
  const [a, b] = [x.inst(1), x.inst(2)];
  const [ra, rb] = await Promise.all([pub.connect(must(a.publicIp, "#1's public IP"), 22), pub.connect(must(b.publicIp, "#2's public IP"), 22)]);
  return {
    name: `1 public: euca-pub -> ${a.publicIp}:22 and ${b.publicIp}:22 (DNAT to #1, #2; rule tcp/22 from 0.0.0.0/0)`,
    expected: `"${a.id}", "${b.id}"`,
    observed: `${show(ra)}, ${show(rb)}`,
    pass: ra.data === a.id && rb.data === b.id,
  };
}

// 2. euca-pub to 192.168.32.200:23 is dropped.
export async function publicTelnetDropped(x: Ctx): Promise<CheckRow> {
  const a = x.inst(1);
  const r = await x.responder(NS_PUB).connect(must(a.publicIp, "#1's public IP"), 23, { timeoutMs: DROP_MS });
  return {
    name: `2 public: euca-pub -> ${a.publicIp}:23 (no rule for tcp/23; #1 does listen on 23)`,
    expected: `dropped: no answer in ${DROP_MS} ms`,
    observed: show(r),
    pass: r.outcome === 'timeout',
  };
}

// 5. #1 to euca-pub: the client sees 192.168.32.200. #5: the client sees 192.168.32.20.
export async function outbound(x: Ctx): Promise<CheckRow> {
  const [a, e] = [x.inst(1), x.inst(5)];
  const [ra, re] = await Promise.all([x.of(1).connect(PUB_IP, PEER_PORT), x.of(5).connect(PUB_IP, PEER_PORT)]);
  return {
    name: `5 outbound: #1 and #5 connect to euca-pub ${PUB_IP}:${PEER_PORT}, which answers with the source address it sees`,
    expected: `#1 "${a.publicIp}" (SNAT to its public IP), #5 "${CC_PUBLIC_IP}" (MASQUERADE: no public IP)`,
    observed: `#1 ${show(ra)}, #5 ${show(re)}`,
    pass: ra.data === a.publicIp && re.data === CC_PUBLIC_IP && e.publicIp === undefined,
  };
}

// 9. Revoking tcp/22 from the default group cuts a new connection to .200:22;
// authorizing it again restores it. The operations go through the controller
// (the store, applied by the agents; or --direct's ManagedCloud), and the time
// from the operation returning to the packets obeying it is measured by
// connecting again and again: for revoke, until a connection is dropped (then
// confirmed by one more waiting DROP_MS), for authorize until one is answered.
export async function revoke(x: Ctx): Promise<CheckRow> {
  const a = x.inst(1);
  const key = a.group;
  const ip = must(a.publicIp, "#1's public IP");
  const rule: Rule = { protocol: 'tcp', from: 22, to: 22, cidr: '0.0.0.0/0' };
  const pub = x.responder(NS_PUB);
  const how = x.c.ctl.mode === 'agents' ? 'written to the store' : 'applied by ManagedCloud';
  const name = `9 revoke: revoke tcp/22 from ${key} (${how}), connect euca-pub -> ${ip}:22 until dropped; authorize it again, connect until answered`;
  const expected = `dropped within ${ENFORCE_MS} ms of the revoke (then no answer in ${DROP_MS} ms); "${a.id}" within ${ENFORCE_MS} ms of the authorize`;
  const before = await pub.connect(ip, 22);
  let revokeMs: number;
  try {
    revokeMs = await x.c.ctl.revoke(key, rule);
  } catch (err) {
    return { name, expected, observed: `revoke failed: ${(err as Error).message.split('\n')[0]}`, pass: false };
  }
  const t1 = performance.now();
  // On etcd: when the CC's status showed the revoke's revision applied (its status watch notes the moment).
  const toCc = x.c.ctl.propagation?.('cc').then(
    (ms) => `, the CC's status showed its revision applied ${ms.toFixed(0)} ms after it returned`,
    (err: Error) => `, the CC's status did not show its revision: ${err.message}`,
  );
  // A try that times out counts only once a connection waiting DROP_MS confirms it: on a slow
  // host (the VLAN lane's emulated VM) an answer can take longer than a try's 300 ms.
  let dropped: Awaited<ReturnType<typeof until>>;
  let cut: Awaited<ReturnType<typeof pub.connect>>;
  let slow = 0;
  for (;;) {
    dropped = await until(
      (t) => pub.connect(ip, 22, { timeoutMs: t }),
      (r) => r.outcome === 'timeout',
      Math.max(0, t1 + ENFORCE_MS - performance.now()),
    );
    cut = await pub.connect(ip, 22, { timeoutMs: DROP_MS });
    if (!dropped || cut.outcome === 'timeout' || performance.now() > t1 + ENFORCE_MS) break;
    slow++;
  }
  const authorizeMs = await x.c.ctl.authorize(key, rule);
  const t2 = performance.now();
  const answered = await until(
    (t) => pub.connect(ip, 22, { timeoutMs: t }),
    (r) => r.data === a.id,
    ENFORCE_MS,
    50,
    1000,
  );
  const back = answered?.r ?? (await pub.connect(ip, 22));
  await x.c.ctl.settled();
  const enforced = dropped
    ? `the first dropped connection began ${(dropped.at - t1).toFixed(0)} ms after it returned${slow ? ` (after ${slow} slow answer${slow > 1 ? 's' : ''} taken for a drop and not confirmed)` : ''}`
    : `still answered after ${ENFORCE_MS} ms`;
  const restored = answered
    ? `the first answered connection began ${(answered.at - t2).toFixed(0)} ms after it returned`
    : `not answered within ${ENFORCE_MS} ms`;
  return {
    name,
    expected,
    observed:
      `before: ${show(before)}; revoke ${how} in ${revokeMs.toFixed(0)} ms${(await toCc) ?? ''}, ${enforced}, then ${show(cut)}; ` +
      `authorize ${how} in ${authorizeMs.toFixed(0)} ms, ${restored}: ${show(back)}`,
    pass: before.data === a.id && dropped !== undefined && cut.outcome === 'timeout' && answered !== undefined && back.data === a.id,
  };
}
