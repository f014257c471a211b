// The checks made from the public side: DNAT and the ingress rules (1, 2),
// SNAT and MASQUERADE seen by the public client (5), revoke and authorize (9).
import type { Rule } from '../managed/types.js';
import { CC_PUBLIC_IP, NS_PUB, PUB_IP } from './topology.js';
import { DROP_MS, PEER_PORT, show, type CheckRow, type Ctx } from './check-context.js';
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

// 9. Revoking tcp/22 from the default group cuts a new connection to .200:22 at once; authorizing it restores it.
export async function revoke(x: Ctx): Promise<CheckRow> {
  const a = x.inst(1);
  const key = a.group;
  const rule: Rule = { protocol: 'tcp', from: 22, to: 22, cidr: '0.0.0.0/0' };
  const pub = x.responder(NS_PUB);
  const name = `9 revoke: revoke tcp/22 from ${key}, at once connect euca-pub -> ${a.publicIp}:22; authorize it again, connect again`;
  const expected = `dropped after revoke (no answer in ${DROP_MS} ms); "${a.id}" after authorize`;
  const before = await pub.connect(must(a.publicIp, "#1's public IP"), 22);
  let t0 = performance.now();
  try {
    await x.c.cloud.revoke(key, rule);
  } catch (err) {
    return { name, expected, observed: `revoke failed: ${(err as Error).message.split('\n')[0]}`, pass: false };
  }
  const revokeMs = performance.now() - t0;
  const cut = await pub.connect(must(a.publicIp, "#1's public IP"), 22, { timeoutMs: DROP_MS });
  t0 = performance.now();
  await x.c.cloud.authorize(key, rule);
  const authorizeMs = performance.now() - t0;
  const back = await pub.connect(must(a.publicIp, "#1's public IP"), 22);
  return {
    name,
    expected,
    observed: `before: ${show(before)}; revoke applied in ${revokeMs.toFixed(0)} ms, then ${show(cut)}; authorize applied in ${authorizeMs.toFixed(0)} ms, then ${show(back)}`,
    pass: before.data === a.id && cut.outcome === 'timeout' && back.data === a.id,
  };
}
