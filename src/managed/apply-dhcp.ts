// The cluster controller's DHCP as part of applying its role: planned and
// validated with the network, before anything is sent (planDhcp), carried out
// after the network is applied (applyDhcp), and a failure then reported as one
// (DhcpApplyError, exit 1) with the state it leaves said in the message.
import {
  DhcpApplyError,
  DhcpServer,
  DhcpValidationError,
  type DhcpNetwork,
  type DhcpPlan,
  type DhcpServerOptions,
  type PlannedAction,
  type UpdateAction,
  type UpdateResult,
} from '../dhcp/index.js';
import { ValidationError } from '../errors.js';
import type { Netns } from '../netlink/socket.js';
import { dhcpNetworksOf, hostnameClashes } from './roles/dhcp.js';
import { bridgeOf } from './roles/index.js';
import type { AllocatedState } from './types.js';

/** DhcpServer options other than the namespace (which comes from the role's). */
export type DhcpOptions = Omit<DhcpServerOptions, 'netns'>;

/** The DHCP server for a namespace given as a name, a path or a descriptor (or none: the caller's). */
export function dhcpServerFor(netns: Netns | undefined, opts: DhcpOptions = {}): DhcpServer {
  return new DhcpServer(netns !== undefined ? { ...opts, netns } : opts);
}

/** DHCP in an ApplyResult: the plan, and once applied what was done. */
export interface ApplyDhcp {
  /** The planned action on a dry run; what was done otherwise. */
  action: PlannedAction | UpdateAction;
  pid?: number;
  previousPid?: number;
  reason?: string;
  plan: DhcpPlan;
}

export interface PlannedDhcp {
  server: DhcpServer;
  networks: DhcpNetwork[];
  plan: DhcpPlan;
}

/**
 * Everything the CC's DHCP needs, checked before the network is touched: the
 * hostnames (as dnsmasq reads them), the namespace, the state directory,
 * dnsmasq itself. Every problem is named in one DhcpValidationError.
 */
export async function planDhcp(
  state: AllocatedState,
  netns: Netns | undefined,
  opts: DhcpOptions = {},
  cluster?: string,
  networks: DhcpNetwork[] = dhcpNetworksFor(state, cluster),
): Promise<PlannedDhcp> {
  const problems: ValidationError[] = hostnameClashes(state);
  let server: DhcpServer | undefined;
  try {
    server = dhcpServerFor(netns, opts);
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    problems.push(err);
  }
  let plan: DhcpPlan | undefined;
  if (server) {
    // With clashing hostnames named already, the rest is checked without hostnames (one message per problem).
    const checked = problems.length ? networks.map((n) => ({ ...n, hosts: n.hosts.map(({ mac, ip }) => ({ mac, ip })) })) : networks;
    try {
      plan = await server.plan(checked);
    } catch (err) {
      if (!(err instanceof DhcpValidationError)) throw err;
      problems.push(...err.problems);
    }
  }
  if (problems.length || !server || !plan) throw new DhcpValidationError(problems);
  return { server, networks, plan };
}

/** The networks a CC (of `cluster`) serves: those with hosts. */
export function dhcpNetworksFor(state: AllocatedState, cluster?: string): DhcpNetwork[] {
  return dhcpNetworksOf(state, { bridge: (g) => bridgeOf(state, g), ...(cluster !== undefined ? { cluster } : {}) }).filter((n) => n.hosts.length);
}

export const plannedOnly = (p: PlannedDhcp): ApplyDhcp => ({ action: p.plan.action, ...(p.plan.pid !== undefined ? { pid: p.plan.pid } : {}), plan: p.plan });

/**
 * Carries out the plan after the network was applied (`ops` mutating ops). On
 * failure dnsmasq is stopped, so that nothing serves a half-made configuration,
 * and a DhcpApplyError says so in one line.
 */
export async function applyDhcp(p: PlannedDhcp, ops: number): Promise<ApplyDhcp> {
  let r: UpdateResult;
  try {
    r = await p.server.update(p.networks);
  } catch (err) {
    const why = (err instanceof Error ? err.message : String(err)).split('\n')[0];
    let left: 'stopped' | 'running' = 'stopped';
    let how = 'dnsmasq is stopped: no DHCP is served';
    try {
      await p.server.stop();
    } catch (stopErr) {
      left = 'running';
      how = `dnsmasq could not be stopped either (${(stopErr as Error).message.split('\n')[0]})`;
    }
    const where = p.server.netns !== undefined ? ` in netns ${p.server.netns}` : '';
    throw new DhcpApplyError(
      `the network is applied (${ops} op${ops === 1 ? '' : 's'}) but DHCP failed: ${why}; ${how}${where}; fix this and run apply again`,
      err,
      ops,
      left,
    );
  }
  return { ...r, plan: p.plan };
}
