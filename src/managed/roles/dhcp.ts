// The cluster controller's DHCP networks for an allocated MANAGED state: one
// network per group on its bridge, one static lease per instance (dhcp/ knows
// dnsmasq; this maps the MANAGED model onto its networks).
// The pure parts of dhcp/ only: its index also loads the dnsmasq supervisor.
import type { DhcpNetwork } from '../../dhcp/types.js';
import { dhcpHostnameProblem } from '../../dhcp/validate.js';
import { ValidationError } from '../../errors.js';
import { gatewayOf, pickCluster } from '../clusters.js';
import { groupNet, parseBlock } from '../net.js';
import { groupKey, type AllocatedGroup, type AllocatedInstance, type AllocatedState } from '../types.js';
import { sameFolded } from '../../util/fold.js';

/** An instance id dnsmasq would take as the host's name (not a lease time, not a keyword). */
const isHostname = (id: string): boolean => dhcpHostnameProblem(id) === undefined;

/**
 * Instance ids that would be hostnames dnsmasq cannot tell apart (it compares
 * them without case: "i-1" and "I-1"): one ValidationError per clash, naming
 * the state's fields.
 */
export function hostnameClashes(state: AllocatedState): ValidationError[] {
  const seen = new Map<string, number>();
  const out: ValidationError[] = [];
  state.instances.forEach((inst, i) => {
    if (!isHostname(inst.id)) return;
    const key = inst.id.toLowerCase();
    const prev = seen.get(key);
    if (prev === undefined) seen.set(key, i);
    else {
      const other = state.instances[prev].id;
      out.push(
        new ValidationError(
          `instances[${i}].id`,
          inst.id,
          `is the same DHCP hostname as instances[${prev}].id ${JSON.stringify(other)}: dnsmasq compares hostnames without case`,
        ),
      );
    }
  });
  return out;
}

/**
 * hostnameClashes(state) when `before` (the instances of a state that had
 * none) is known: the instances that are not `before`'s (by identity: the
 * store hands unchanged instances over as the same objects; the common head
 * and tail are skipped) are compared with every other id, without making a
 * key of each; only a clash found that way runs the whole check, for its
 * errors. A run-instance at 5000 instances: one id compared with 5000, not
 * 5000 ids checked and lowered.
 */
export function hostnameClashesSince(before: readonly AllocatedInstance[] | undefined, state: AllocatedState): ValidationError[] {
  const now = state.instances;
  if (!before) return hostnameClashes(state);
  let head = 0;
  while (head < now.length && head < before.length && now[head] === before[head]) head++;
  let tail = 0;
  while (tail < now.length - head && tail < before.length - head && now[now.length - 1 - tail] === before[before.length - 1 - tail]) tail++;
  const fresh: number[] = [];
  for (let k = head; k < now.length - tail; k++) if (isHostname(now[k].id)) fresh.push(k);
  if (fresh.length > 8) return hostnameClashes(state);
  for (const k of fresh)
    for (let j = 0; j < now.length; j++) if (j !== k && sameFolded(now[k].id, now[j].id) && isHostname(now[j].id)) return hostnameClashes(state);
  return [];
}

export interface DhcpFromStateOptions {
  /** The bridge a group's instances are on at the CC. Default `eucabr<vlan>`. */
  bridge?: (g: AllocatedGroup) => string;
  leaseTime?: number | 'infinite';
  /** The cluster whose CC serves (--cluster); needed when there are several. Its own instances only, its gateway as router. */
  cluster?: string;
}

/**
 * Every group gets a network on its bridge (gateway = block + 1, DNS = the
 * state's dns), with its instances as hosts; an instance's id becomes its
 * hostname when it is a valid DNS label that dnsmasq reads as a name: an id
 * such as "ignore", "infinite", "1234" or "60m" would be read as a keyword or
 * a lease time (see dhcpHostnameProblem), so that host gets no hostname and
 * its lease is the network's like every other.
 */
export function dhcpNetworksOf(state: AllocatedState, opts: DhcpFromStateOptions = {}): DhcpNetwork[] {
  const bridge = opts.bridge ?? ((g: AllocatedGroup) => `eucabr${g.vlan}`);
  const cluster = pickCluster(state, opts.cluster);
  return state.groups.map((g) => {
    const net = groupNet(g);
    const key = groupKey(g);
    const gateway = gatewayOf(parseBlock('subnet', g.subnet), cluster.index);
    const n: DhcpNetwork = {
      interface: bridge(g),
      subnet: net.cidr,
      gateway,
      dns: state.dns !== undefined ? [state.dns] : [],
      hosts: state.instances
        .filter((i) => i.group === key && Object.hasOwn(cluster.nodes, i.node))
        .map((i) => (isHostname(i.id) ? { mac: i.mac, ip: i.privateIp, hostname: i.id } : { mac: i.mac, ip: i.privateIp })),
    };
    if (opts.leaseTime !== undefined) n.leaseTime = opts.leaseTime;
    return n;
  });
}
