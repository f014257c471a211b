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
  type HostChange,
  type PlannedAction,
  type UpdateAction,
  type UpdateResult,
} from '../dhcp/index.js';
import { rm } from '../util/fs-async.js';
import { ValidationError } from '../errors.js';
import type { Netns } from '../netlink/socket.js';
import { checkAdded } from './dhcp-delta.js';
import { dhcpNetworksOf, hostnameClashes, hostnameClashesSince } from './roles/dhcp.js';
import { bridgeOf } from './roles/index.js';
import type { AllocatedInstance, AllocatedState } from './types.js';

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
  /** 'hosts': the reload or rewrite that follows, off the caller's path (never rejects: its error, if any). */
  background?: Promise<Error | undefined>;
}

export interface PlannedDhcp {
  server: DhcpServer;
  networks: DhcpNetwork[];
  plan: DhcpPlan;
  /** Only these hosts changed since the last apply (planHosts): dnsmasq is given them alone (DhcpServer.updateHosts). */
  hosts?: HostChange;
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

/**
 * The plan when only hosts changed since the last apply (dhcp-delta.ts): the
 * added hosts checked (and hostnames across the state, as planDhcp does: with
 * `before`, only the instances new since), the rest checked when these
 * networks were last planned.
 */
export function planHosts(
  state: AllocatedState,
  netns: Netns | undefined,
  opts: DhcpOptions,
  networks: DhcpNetwork[],
  hosts: HostChange,
  before?: readonly AllocatedInstance[],
): PlannedDhcp {
  // `before`: the instances of the state these networks' last plan checked (they had no clash).
  const clashes = hostnameClashesSince(before, state);
  if (clashes.length) throw new DhcpValidationError(clashes);
  checkAdded(networks, hosts.add);
  const server = dhcpServerFor(netns, opts);
  const plan: DhcpPlan = {
    action: 'hosts',
    stateDir: server.paths.dir,
    files: [],
    networks: networks.length,
    hosts: networks.reduce((n, x) => n + x.hosts.length, 0),
  };
  return { server, networks, plan, hosts };
}

/** The networks a CC (of `cluster`) serves: those with hosts. */
export function dhcpNetworksFor(state: AllocatedState, cluster?: string): DhcpNetwork[] {
  return dhcpNetworksOf(state, { bridge: (g) => bridgeOf(state, g), ...(cluster !== undefined ? { cluster } : {}) }).filter((n) => n.hosts.length);
}

export const plannedOnly = (p: PlannedDhcp): ApplyDhcp => ({ action: p.plan.action, ...(p.plan.pid !== undefined ? { pid: p.plan.pid } : {}), plan: p.plan });

/**
 * A fresh start (no dnsmasq running, none of its files there yet) can run
 * while the network is committed: dnsmasq binds interfaces as they appear
 * (bind-dynamic), and if the commit fails, stopping it and removing the files
 * it was given leaves the host as it was (undoEarlyDhcp).
 */
export const startsFresh = (p: PlannedDhcp): boolean => p.plan.action === 'start' && p.plan.files.every((f) => f.change === 'create');

/** An update begun early (startsFresh), its outcome held until applyDhcp or undoEarlyDhcp reads it. */
export interface EarlyDhcp {
  outcome: Promise<{ ok: UpdateResult } | { err: unknown }>;
}

/**
 * Writes dnsmasq's files and spawns it; resolves once it is spawned (or the
 * start failed), with the start's outcome still to come: dnsmasq reads its
 * files while the caller commits the network.
 */
export async function startDhcpEarly(p: PlannedDhcp): Promise<EarlyDhcp> {
  let spawned: () => void = () => undefined;
  const started = new Promise<void>((resolve) => (spawned = resolve));
  const outcome: EarlyDhcp['outcome'] = p.server.update(p.networks, { onSpawn: () => spawned() }).then(
    (ok) => ({ ok }),
    (err: unknown) => ({ err }),
  );
  await Promise.race([started, outcome]);
  return { outcome };
}

/**
 * After a failed commit: waits for the early start to settle, stops dnsmasq
 * and removes the state directory's files, none of which were there before
 * (the directory itself stays, as planDhcp found or made it).
 * Problems doing so are left to the commit's own error, which is what the
 * caller throws.
 */
export async function undoEarlyDhcp(p: PlannedDhcp, early: EarlyDhcp): Promise<void> {
  await early.outcome;
  await p.server.stop().catch(() => undefined);
  const f = p.server.paths;
  await Promise.all(
    [f.config, f.hosts, f.hostsDir, f.opts, f.leases, f.pid, f.log, f.loaded].map((path) => rm(path, { force: true, recursive: true }).catch(() => undefined)),
  );
}

/**
 * Carries out the plan after the network was applied (`ops` mutating ops), or
 * takes the outcome of an update begun early (startDhcpEarly). On failure
 * dnsmasq is stopped, so that nothing serves a half-made configuration, and a
 * DhcpApplyError says so in one line.
 */
export async function applyDhcp(p: PlannedDhcp, ops: number, early?: EarlyDhcp): Promise<ApplyDhcp> {
  let r: UpdateResult;
  try {
    if (early) {
      const e = await early.outcome;
      if ('err' in e) throw e.err;
      r = e.ok;
    } else r = p.hosts ? await p.server.updateHosts(p.networks, p.hosts) : await p.server.update(p.networks);
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
