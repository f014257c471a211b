// The demo's checks: the nine of issue 6, the moving address of issue 15,
// the drift repaired by an agent (issue 16), and with --clusters 2 the four
// of issue 18 (checks-clusters.ts), each made with real packets from
// inside the namespaces by the responders, each reported as one row: what was tried, what was expected, what was seen. The
// checks themselves are in checks-public.ts, checks-private.ts,
// checks-move.ts and checks-drift.ts.
import { Ctx, type CheckContext, type CheckRow } from './check-context.js';
import { dhcp, metadata, otherGroup, sameGroup, spoofing } from './checks-private.js';
import { outbound, publicSsh, publicTelnetDropped, revoke } from './checks-public.js';
import { move } from './checks-move.js';
import { drift } from './checks-drift.js';
import { clusterGateway, clusterOtherGroup, clusterPublic, clusterSameGroup } from './checks-clusters.js';

export { CC_UDP_PORT, DROP_MS, MOVE_UDP_PORT, PEER_PORT, PUB_UDP_PORT, type CheckContext, type CheckRow } from './check-context.js';

/** In the issues' order; 9, 10 and 11 change the firewall, the NAT and a host (and put them back), so they come last. */
export const CHECKS: Array<(x: Ctx) => Promise<CheckRow>> = [
  publicSsh,
  publicTelnetDropped,
  sameGroup,
  otherGroup,
  outbound,
  metadata,
  dhcp,
  spoofing,
  revoke,
  move,
  drift,
];

/** With two clusters (--clusters 2), after the others: they change nothing. */
export const CLUSTER_CHECKS: Array<(x: Ctx) => Promise<CheckRow>> = [clusterSameGroup, clusterOtherGroup, clusterPublic, clusterGateway];

/** The checks a mode runs: the drift check needs the agents (not in --direct); the cluster checks a second cluster. */
export function checksFor(mode: 'agents' | 'direct', clusters = 1): Array<(x: Ctx) => Promise<CheckRow>> {
  const base = mode === 'agents' ? CHECKS : CHECKS.filter((c) => c !== drift);
  return clusters > 1 ? [...base, ...CLUSTER_CHECKS] : base;
}

/** Runs the checks in order (9 and 10 change the state and put it back, so they come last); a check that throws is a failed row. */
export async function runChecks(c: CheckContext, onRow?: (r: CheckRow) => void): Promise<CheckRow[]> {
  const x = new Ctx(c);
  const rows: CheckRow[] = [];
  for (const check of checksFor(c.ctl.mode, c.clusters.length)) {
    let row: CheckRow;
    try {
      row = await check(x);
    } catch (err) {
      // Numbered as in the full list (--direct leaves out 11, not the number).
      row = {
        name: `${[...CHECKS, ...CLUSTER_CHECKS].indexOf(check) + 1} ${check.name}`,
        expected: 'the check to run',
        observed: `error: ${(err as Error).message.split('\n')[0]}`,
        pass: false,
      };
    }
    rows.push(row);
    onRow?.(row);
  }
  return rows;
}
