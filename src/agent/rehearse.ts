// The agent's rehearsal versions: made-up next versions of the state in hand,
// one per kind of change the cloud's operations make (a rule added to a
// group, an instance added on this host, a public address associated), for
// the warm-up after the start (agent.ts); and for a node, the versions that
// are other hosts' business (unconcernedOf), which it only judges. The agent
// plans each one incrementally as far as the commit and stops there (applyRole's
// `rehearse`: nothing sent, nothing written), so that the first real
// operation of each kind does not pay for compiling its path: at 5000
// instances the first authorize, run-instance and associate-address syncs
// took 40-70 ms of CPU against 7-25 for the ones after them.
//
// Pure: each variant is the state with one object replaced or added; every
// other object is the same (===), as the store's read hands over unchanged
// objects, so the rehearsal runs the path a real version runs.
import { formatMac, intToIpv4, ipv4ToInt, parseMac } from '../util/ip.js';
import { canonicalOf, nextPublicIp } from '../managed/allocate.js';
import { clustersOf, firstHostInt } from '../managed/clusters.js';
import { lastOf, parseBlock } from '../managed/net.js';
import { groupKey, type AllocatedInstance, type AllocatedState } from '../managed/types.js';
import type { Role } from '../managed/roles/index.js';

export interface Rehearsal {
  /** What the variant changes, like the operation it stands for. */
  kind: 'authorize' | 'run-instance' | 'associate-address';
  state: AllocatedState;
}

/** A port name no instance uses (the kernel never sees it: a rehearsal sends nothing). */
const REHEARSAL_PORT = 'ehrehearse0';

/** The rehearsals of `s` for `role`: those that can be made (a state with no instance of this host has none of the instance kinds). */
export function rehearsalsOf(s: AllocatedState, role: Role): Rehearsal[] {
  const mine = s.instances.filter((i) => role.role === 'cc' || i.node === role.node);
  const base = mine.at(-1);
  if (!base) return [];
  const out: Rehearsal[] = [{ kind: 'authorize', state: withRule(s, base.group) }];
  const added = withInstance(s, base);
  if (added) out.push({ kind: 'run-instance', state: added });
  const moved = withPublicIp(s, mine);
  if (moved) out.push({ kind: 'associate-address', state: moved });
  return out;
}

/** A made-up version that a node hears of and its plan does not read, or reads only through relevance.ts. */
export interface Unconcerned {
  /** What the variant changes, like the operation it stands for: a rule of a group the node carries; an instance added on another node, in a group the node carries or in one it does not. */
  kind: 'authorize' | 'peer-run-instance' | 'other-run-instance';
  state: AllocatedState;
}

/**
 * For a node: versions it hears of that are other hosts' business, those
 * that can be made from `s`. Most versions a node hears of are of this kind
 * (the CC's rules, other nodes' instances); the agent judges each with
 * versionChange alone (relevance.ts), and the warm-up judges these, so that
 * the first real one does not pay for compiling that path (at 5000
 * instances the first run-instance and terminate elsewhere cost 30 NC
 * agents 5.8-6.8 ms of CPU each against 1-2 for the ones after them). None
 * for the CC: every version may change its plan.
 */
export function unconcernedOf(s: AllocatedState, role: Role): Unconcerned[] {
  if (role.role === 'cc') return [];
  const carried = new Set(s.instances.filter((i) => i.node === role.node).map((i) => i.group));
  const mine = lastWhere(s.instances, (i) => i.node === role.node);
  const out: Unconcerned[] = [];
  if (mine) out.push({ kind: 'authorize', state: withRule(s, mine.group) });
  const peer = lastWhere(s.instances, (i) => i.node !== role.node && carried.has(i.group));
  const peerAdded = peer && withInstance(s, peer);
  if (peerAdded) out.push({ kind: 'peer-run-instance', state: peerAdded });
  const other = lastWhere(s.instances, (i) => i.node !== role.node && !carried.has(i.group));
  const otherAdded = other && withInstance(s, other);
  if (otherAdded) out.push({ kind: 'other-run-instance', state: otherAdded });
  return out;
}

function lastWhere<T>(xs: readonly T[], ok: (x: T) => boolean): T | undefined {
  for (let k = xs.length - 1; k >= 0; k--) if (ok(xs[k])) return xs[k];
  return undefined;
}

/** `s` with one more rule in group `key` (a port no rule of the group names). */
function withRule(s: AllocatedState, key: string): AllocatedState {
  const groups = s.groups.map((g) => {
    if (groupKey(g) !== key) return g;
    const ports = new Set(g.rules.map((r) => r.from));
    let port = 65535;
    while (ports.has(port)) port--;
    // Made as allocation makes a group (canonicalOf), for the hidden class real ones have (see withInstance).
    return canonicalOf.group({ ...g, rules: [...g.rules, { protocol: 'tcp' as const, from: port, to: port, cidr: '192.0.2.0/24' }] });
  });
  return { ...s, groups };
}

/** `s` with one more instance like `like` (its group and node): the lowest free address of the group, its MAC made as allocate makes it. */
function withInstance(s: AllocatedState, like: AllocatedInstance): AllocatedState | undefined {
  const group = s.groups.find((g) => groupKey(g) === like.group);
  if (!group) return undefined;
  const block = parseBlock('subnet', group.subnet);
  const used = new Set(s.instances.map((i) => ipv4ToInt(i.privateIp)));
  let ip = firstHostInt(block, clustersOf(s).length);
  while (ip < lastOf(block) && used.has(ip)) ip++;
  if (ip >= lastOf(block) || s.instances.some((i) => i.node === like.node && i.port === REHEARSAL_PORT)) return undefined;
  const prefix = parseMac('mac', like.mac);
  const mac = formatMac(Uint8Array.of(prefix[0], prefix[1], ip >>> 24, (ip >>> 16) & 255, (ip >>> 8) & 255, ip & 255));
  let id = `${like.id}-rehearsal`;
  while (s.instances.some((i) => i.id === id)) id += '-';
  // Made as allocation makes an instance (canonicalOf), so that it has the hidden class real ones have: code
  // that V8 optimised on a literal's would be thrown away ("wrong map") by the first real version, in every agent at once.
  const inst = canonicalOf.instance({ id, group: like.group, node: like.node, port: REHEARSAL_PORT, privateIp: intToIpv4(ip), mac });
  return { ...s, instances: [...s.instances, inst] };
}

/**
 * `s` with a public address moved: an instance that has none gets the
 * lowest free one of the pool (associate-address); when the pool has none
 * free, one that has one loses it (disassociate-address, the same path).
 */
function withPublicIp(s: AllocatedState, mine: AllocatedInstance[]): AllocatedState | undefined {
  const without = mine.find((i) => i.publicIp === undefined);
  let free: string | undefined;
  try {
    free = without && (s.reservedIps?.[0] ?? nextPublicIp(s));
  } catch {
    free = undefined;
  }
  const target = free !== undefined ? without : mine.find((i) => i.publicIp !== undefined);
  if (!target) return undefined;
  const changed: AllocatedInstance = { ...target };
  if (free !== undefined) changed.publicIp = free;
  else delete changed.publicIp;
  const reservedIps = free !== undefined && s.reservedIps?.[0] === free ? s.reservedIps.slice(1) : s.reservedIps;
  return { ...s, ...(reservedIps ? { reservedIps } : {}), instances: s.instances.map((i) => (i === target ? changed : i)) };
}
