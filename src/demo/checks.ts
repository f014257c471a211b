// The demo's nine checks (issue 6), each made with real packets from inside
// the namespaces by the agents, each reported as one row: what was tried,
// what was expected, what was seen. The checks themselves are in
// checks-public.ts and checks-private.ts.
import { Ctx, type CheckContext, type CheckRow } from './check-context.js';
import { dhcp, metadata, otherGroup, sameGroup, spoofing } from './checks-private.js';
import { outbound, publicSsh, publicTelnetDropped, revoke } from './checks-public.js';

export { CC_UDP_PORT, DROP_MS, PEER_PORT, PUB_UDP_PORT, type CheckContext, type CheckRow } from './check-context.js';

/** In the order; 9 changes the firewall (and puts it back), so it comes last. */
export const CHECKS: Array<(x: Ctx) => Promise<CheckRow>> = [publicSsh, publicTelnetDropped, sameGroup, otherGroup, outbound, metadata, dhcp, spoofing, revoke];

/** Runs the nine checks in order (9 changes the firewall, so it comes last); a check that throws is a failed row. */
export async function runChecks(c: CheckContext, onRow?: (r: CheckRow) => void): Promise<CheckRow[]> {
  const x = new Ctx(c);
  const rows: CheckRow[] = [];
  for (const [k, check] of CHECKS.entries()) {
    let row: CheckRow;
    try {
      row = await check(x);
    } catch (err) {
      row = { name: `${k + 1} ${check.name}`, expected: 'the check to run', observed: `error: ${(err as Error).message.split('\n')[0]}`, pass: false };
    }
    rows.push(row);
    onRow?.(row);
  }
  return rows;
}
