// Dry runs: a transaction's ops as the `ip`, `bridge`, `sysctl` and `nft`
// commands a person could read, or run (`ip -batch`, `bridge -batch`, `nft -f`)
// to get the same state.
import type { TapSpec } from './ops.js';
import type { AddressSpec } from '../rtnl/address.js';
import { fdbWords } from '../rtnl/fdb.js';
import type { NeighborSpec } from '../rtnl/neigh.js';
import type { LinkRef } from '../rtnl/kinds/index.js';
import type { LinkAttributes, LinkChanges, LinkSpec } from '../rtnl/link.js';
import type { RouteSpec } from '../rtnl/route.js';
import type { Op } from './ops.js';

export interface Rendered {
  /** Everything, in commit order: "ip ...", "sysctl -w ...", and an nft block. */
  text: string;
  /** `ip -batch` lines (without the leading "ip"), in order. */
  ip: string[];
  /** `bridge -batch` lines (without the leading "bridge"): the FDB ops, in order. */
  bridge: string[];
  /** key=value pairs, in order. */
  sysctl: string[];
  /** An `nft -f` script. */
  nft: string;
}

const q = (s: string) => (/^[\w.:/@+-]+$/.test(s) ? s : JSON.stringify(s));
const ref = (r: LinkRef) => String(r);

function attrs(a: LinkAttributes): string[] {
  const out: string[] = [];
  if (a.mtu !== undefined) out.push('mtu', String(a.mtu));
  if (a.address !== undefined) out.push('address', a.address);
  if (a.txqlen !== undefined) out.push('txqueuelen', String(a.txqlen));
  if (a.group !== undefined) out.push('group', String(a.group));
  if (a.alias !== undefined) out.push('alias', q(a.alias));
  if (a.master !== undefined) out.push(...(a.master === null ? ['nomaster'] : ['master', ref(a.master)]));
  if (a.up !== undefined) out.push(a.up ? 'up' : 'down');
  return out;
}

function kindArgs(s: LinkSpec): string[] {
  switch (s.kind) {
    case 'bridge': {
      const o = ['type', 'bridge'];
      if (s.stp !== undefined) o.push('stp_state', s.stp ? '1' : '0');
      if (s.forwardDelay !== undefined) o.push('forward_delay', String(Math.round(s.forwardDelay * 100)));
      if (s.helloTime !== undefined) o.push('hello_time', String(Math.round(s.helloTime * 100)));
      if (s.multicastSnooping !== undefined) o.push('mcast_snooping', s.multicastSnooping ? '1' : '0');
      return o;
    }
    case 'vlan':
      return ['type', 'vlan', ...(s.protocol ? ['protocol', s.protocol] : []), 'id', String(s.id)];
    case 'veth': {
      const o = ['type', 'veth', 'peer', 'name', s.peer];
      if (s.peerAddress) o.push('address', s.peerAddress);
      if (s.peerNetns !== undefined) o.push('netns', String(s.peerNetns));
      return o;
    }
    case 'vxlan': {
      const o = ['type', 'vxlan', 'id', String(s.vni)];
      if (s.local) o.push('local', s.local);
      if (s.remote) o.push('remote', s.remote);
      if (s.multicastGroup) o.push('group', s.multicastGroup);
      if (s.device !== undefined) o.push('dev', ref(s.device));
      if (s.ttl !== undefined) o.push('ttl', String(s.ttl));
      if (s.learning !== undefined) o.push(s.learning ? 'learning' : 'nolearning');
      o.push('dstport', String(s.port ?? 4789));
      return o;
    }
    case 'macvlan':
      return ['type', 'macvlan', ...(s.mode ? ['mode', s.mode] : [])];
  }
}

function linkAdd(s: LinkSpec): string {
  const parent = s.kind === 'vlan' || s.kind === 'macvlan' ? ['link', ref(s.parent)] : [];
  const index = s.index !== undefined ? ['index', String(s.index)] : [];
  // The kernel ignores an alias given at creation; the transaction sets it afterwards.
  const { alias: _alias, ...rest } = s;
  return ['link', 'add', ...parent, 'name', s.name, ...index, ...attrs(rest), ...kindArgs(s)].join(' ');
}

function tapAdd(name: string, spec: TapSpec): string[] {
  const o = ['tuntap', 'add', 'dev', name, 'mode', spec.tun ? 'tun' : 'tap'];
  if (spec.owner !== undefined) o.push('user', String(spec.owner));
  if (spec.ownerGroup !== undefined) o.push('group', String(spec.ownerGroup));
  if (spec.vnetHdr) o.push('vnet_hdr');
  if (spec.multiQueue) o.push('multi_queue');
  return [o.join(' ')];
}

function linkSet(r: LinkRef, c: LinkChanges): string {
  const o = ['link', 'set', 'dev', ref(r)];
  if (c.name !== undefined) o.push('name', c.name);
  if (c.netns !== undefined) o.push('netns', String(c.netns));
  const kind = c.bridge ? kindArgs({ kind: 'bridge', name: String(r), ...c.bridge }) : [];
  return [...o, ...attrs(c), ...kind].join(' ');
}

function address(verb: string, s: AddressSpec): string {
  const o = ['address', verb, s.address, 'dev', ref(s.dev)];
  if (s.broadcast !== undefined) o.push('broadcast', s.broadcast === true ? '+' : s.broadcast);
  if (s.scope !== undefined) o.push('scope', s.scope);
  if (s.label !== undefined) o.push('label', s.label);
  return o.join(' ');
}

function route(verb: string, s: RouteSpec): string {
  const o = ['route', verb, s.dst];
  if (s.gateway !== undefined) o.push('via', s.gateway);
  if (s.dev !== undefined) o.push('dev', ref(s.dev));
  if (s.table !== undefined) o.push('table', String(s.table));
  if (s.scope !== undefined) o.push('scope', s.scope);
  if (s.metric !== undefined) o.push('metric', String(s.metric));
  if (s.src !== undefined) o.push('src', s.src);
  return o.join(' ');
}

function neigh(verb: string, s: NeighborSpec): string {
  const o = ['neigh', verb, s.address];
  if (verb !== 'del' && s.lladdr !== undefined) o.push('lladdr', s.lladdr);
  o.push('dev', ref(s.dev));
  if (verb !== 'del') o.push('nud', s.state ?? 'permanent');
  if (verb !== 'del' && s.router) o.push('router');
  return o.join(' ');
}

/** `bridge -batch` lines for one op: FDB ops only. */
export function bridgeLines(op: Op): string[] {
  switch (op.op) {
    case 'fdb.add':
    case 'fdb.append':
    case 'fdb.replace':
      return [`fdb ${op.op.slice(4)} ${fdbWords(op.spec)}`];
    case 'fdb.delete':
      return [`fdb del ${fdbWords(op.spec)}`];
    default:
      return [];
  }
}

/** `ip -batch` lines for one rtnetlink op; none for sysctl, FDB and nft ops. */
export function ipLines(op: Op): string[] {
  switch (op.op) {
    case 'link.add':
      return [linkAdd(op.spec)];
    case 'tap.add':
      return tapAdd(op.name, op.spec);
    case 'link.set':
      return [linkSet(op.ref, op.changes)];
    case 'link.delete':
      return [`link delete dev ${ref(op.ref)}`];
    case 'link.deleteGroup':
      return [`link delete group ${op.group}`];
    case 'address.add':
      return [address('add', op.spec)];
    case 'address.delete':
      return [address('delete', op.spec)];
    case 'route.add':
      return [route('add', op.spec)];
    case 'route.delete':
      return [route('delete', op.spec)];
    case 'neigh.add':
      return [neigh('add', op.spec)];
    case 'neigh.replace':
      return [neigh('replace', op.spec)];
    case 'neigh.delete':
      return [neigh('del', op.spec)];
    default:
      return [];
  }
}

/** Renders rtnetlink and sysctl ops, with the nft batch's script placed before the link deletes. */
export function renderOps(ops: Op[], nftScript = ''): Rendered {
  const ip: string[] = [];
  const bridge: string[] = [];
  const sysctl: string[] = [];
  const text: string[] = [];
  let nftAt = -1;
  for (const op of ops) {
    if (nftAt < 0 && (op.op === 'link.delete' || op.op === 'link.deleteGroup' || (op.op === 'link.set' && op.changes.netns !== undefined))) {
      nftAt = text.length;
    }
    if (op.op === 'sysctl') {
      sysctl.push(`${op.key}=${op.value}`);
      text.push(`sysctl -w ${op.key}=${op.value}`);
      continue;
    }
    for (const line of ipLines(op)) {
      ip.push(line);
      text.push(`ip ${line}`);
    }
    for (const line of bridgeLines(op)) {
      bridge.push(line);
      text.push(`bridge ${line}`);
    }
  }
  if (nftScript) text.splice(nftAt < 0 ? text.length : nftAt, 0, `nft -f - <<'EOF'\n${nftScript.trimEnd()}\nEOF`);
  return { text: text.join('\n'), ip, bridge, sysctl, nft: nftScript };
}
