// Preflight: before anything is sent, what the host must already have for a
// role: its interfaces, and 802.1Q when the groups are VLANs. Every missing
// piece is named in one error. `segmentation: auto` is decided here, for this
// host: vlan where the kernel has 802.1Q, else vxlan.
import type { Handle } from '../handle.js';
import { ValidationError } from '../errors.js';
import { vlanSupport, type VlanSupport } from '../sys/vlan-support.js';
import { clusterOfNode, pickCluster } from './clusters.js';
import { planRole, type Role } from './roles/index.js';
import type { AllocatedState, Segmentation } from './types.js';
import { validateState } from './validate.js';

/** What a host lacks for a role; exit 2 on the command line (the host is not ready: nothing was changed). */
export class PreflightError extends ValidationError {
  constructor(
    readonly where: string,
    readonly problems: string[],
  ) {
    super('host', where, problems.join('; '));
    this.name = 'PreflightError';
    this.message = `preflight: ${where} is not ready (${problems.length} problem${problems.length === 1 ? '' : 's'}): ${problems.join('; ')}`;
  }
}

export interface Resolved {
  state: AllocatedState & { segmentation: Segmentation };
  /** Said to the operator: how auto was decided. */
  note?: string;
}

/**
 * Decides `segmentation: auto` for this host. A kernel without 802.1Q gets
 * vxlan, which needs the underlay addresses: their absence is a problem.
 */
export function resolveSegmentation(state: AllocatedState, vlan: VlanSupport, problems: string[]): Resolved {
  if (state.segmentation !== 'auto') return { state: state as Resolved['state'] };
  if (vlan.supported) {
    return { state: { ...state, segmentation: 'vlan' }, note: `segmentation auto: vlan (this kernel has 802.1Q: ${vlan.how})` };
  }
  const vx = { ...state, segmentation: 'vxlan' as const };
  try {
    validateState(structuredClone(vx));
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    problems.push(`segmentation auto: this kernel has no 802.1Q (${vlan.how}), and vxlan cannot be used: ${err.message}`);
    return { state: { ...state, segmentation: 'vlan' } };
  }
  return { state: vx, note: `segmentation auto: vxlan (this kernel has no 802.1Q: ${vlan.how})` };
}

/**
 * The interfaces a role needs on its host, by the state's field names: the
 * private NIC always; the CC's public NIC once an instance has a public
 * address (its /32s go there; a cloud without a public side needs none).
 */
function neededInterfaces(state: AllocatedState, role: Role): Array<[string, string]> {
  if (role.role === 'cc') {
    const out: Array<[string, string]> = [];
    const c = pickCluster(state, role.cluster);
    if (state.instances.some((i) => i.publicIp !== undefined)) out.push([`${c.ccField}.publicInterface`, c.cc.publicInterface]);
    out.push([`${c.ccField}.privateInterface`, c.cc.privateInterface]);
    return out;
  }
  const c = clusterOfNode(state, role.node);
  return c ? [[c.nodeField(role.node, 'privateInterface'), c.nodes[role.node].privateInterface]] : [];
}

export interface PreflightResult extends Resolved {
  where: string;
  /** The needed interfaces found, name -> ifindex (for the next preflight's `known`). */
  interfaces: Map<string, number>;
}

/**
 * Checks the host behind `h` for `role` and resolves auto. Throws one
 * PreflightError naming every missing piece (with those `more` finds in the
 * resolved state); changes nothing. `known`: interfaces a caller knows are
 * there (the last preflight's `interfaces`, with no link event naming one of
 * them since: the agent): a needed one among them is not asked of the kernel
 * again. 802.1Q support is looked up only when the segmentation is vlan or auto.
 */
export async function preflight(
  h: Handle,
  state: AllocatedState,
  role: Role,
  vlan?: VlanSupport,
  more?: (resolved: Resolved['state']) => Promise<string[]>,
  known?: ReadonlyMap<string, number>,
): Promise<PreflightResult> {
  const where = h.netns === undefined ? 'this host' : `namespace ${String(h.netns)}`;
  const problems: string[] = [];
  const askVlan = state.segmentation === 'vlan' || state.segmentation === 'auto';
  const v = vlan ?? (askVlan ? vlanSupport() : { supported: false, how: 'not asked (segmentation is not vlan)' });
  const resolved = resolveSegmentation(state, v, problems);
  // Other parts of the plan (the CC's DHCP) add their problems to the same error.
  if (more) problems.push(...(await more(resolved.state)));
  const needed = neededInterfaces(state, role);
  const interfaces = await findInterfaces(h, needed, known);
  for (const [field, name] of needed) if (!interfaces.has(name)) problems.push(`${field} ${JSON.stringify(name)}: no such interface in ${where}`);
  // The role is planned here only when its VLAN devices could be refused.
  if (!v.supported && state.segmentation === 'vlan' && resolved.state.segmentation === 'vlan') {
    if ((planRole(resolved.state, role).links ?? []).some((l) => l.kind === 'vlan'))
      problems.push(
        `segmentation vlan: this kernel has no 802.1Q (${v.how}); use segmentation "vxlan" (with underlay addresses on cc and every node) or "auto"`,
      );
  }
  if (problems.length) throw new PreflightError(where, problems);
  return { ...resolved, where, interfaces };
}

/**
 * The needed interfaces that are there, name -> ifindex. Each is asked of the
 * kernel by name (a dump of every link, thousands of taps on a busy node, is
 * not needed to find a few), except those in `known`.
 */
async function findInterfaces(h: Handle, needed: Array<[string, string]>, known?: ReadonlyMap<string, number>): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const ask: string[] = [];
  for (const [, name] of needed) {
    const index = known?.get(name);
    if (index !== undefined) out.set(name, index);
    else ask.push(name);
  }
  const get = (name: string) =>
    h.links.get(name).catch((err: unknown) => {
      if (err instanceof ValidationError) return undefined; // not a possible interface name: no such interface
      throw err;
    });
  const found = await Promise.all(ask.map(get));
  found.forEach((l, i) => {
    if (l) out.set(ask[i], l.index);
  });
  return out;
}
