// What eucanet owns on a host, read from the kernel and told in the seed's own
// terms: VLAN devices, bridges with their ports (like `brctl show`), each
// port's instance and group, the addresses it placed, its nat and filter
// rules, and the DHCP server (show-format.ts prints it for people).
import { readFileSync } from 'node:fs';
import type { Handle } from '../handle.js';
import { renderRule, renderRuleset, renderSetLines, renderElements, type Ruleset } from '../nft/render/ruleset.js';
import type { Link } from '../rtnl/link.js';
import { isOwnedAlias, isOwnedTable } from '../tx/owner.js';
import { aliasDetail, aliasOwner, isEucanetProto } from '../tx/owner.js';
import type { DhcpServer } from '../dhcp/index.js';
import { roleOfProto } from './roles/index.js';
import type { AllocatedState, State } from './types.js';
import { must } from '../util/must.js';

export interface PortView {
  name: string;
  /** The instance on the port, from its mark or the state. */
  instance?: string;
  group?: string;
}

export interface StructuredRule {
  family: string;
  table: string;
  chain: string;
  handle?: number;
  comment?: string;
  /** The rule in nft syntax. */
  rule: string;
}

export interface StructuredRuleset {
  tables: Array<{ family: string; name: string }>;
  chains: Array<{ family: string; table: string; name: string; type?: string; hook?: string; priority?: number; policy?: string }>;
  sets: Array<{ family: string; table: string; name: string; type: string; elements: string[] }>;
  rules: StructuredRule[];
}

export interface DhcpView {
  running: boolean;
  pid?: number;
  dir: string;
  leases: Array<{ ip: string; mac: string; hostname?: string; expires: string }>;
}

export interface HostView {
  segments: Array<{ name: string; kind: string; vlan?: number; parent?: string; vni?: number }>;
  bridges: Array<{ name: string; stp: boolean; group?: string; role?: string; ports: string[] }>;
  /** Every port of eucanet's bridges, with its instance and group where known. */
  ports: Array<PortView & { bridge: string }>;
  addresses: Array<{ dev: string; address: string; role?: string }>;
  /** eucanet's nftables tables, in nft syntax (structured by toJson). */
  ruleset: string;
  nft: StructuredRuleset;
  dhcp?: DhcpView;
}

/** "port i-1 group admin/default" (or an older "port i-1") to its instance and group. */
function fromMark(alias: string | undefined): { instance?: string; group?: string } {
  const m = /^port (\S+)(?: group (\S+))?$/.exec(aliasDetail(alias) ?? '');
  if (!m) return {};
  return { instance: m[1], ...(m[2] ? { group: m[2] } : {}) };
}

function portView(l: Link, bridgeGroup: string | undefined, state: State | AllocatedState | undefined): PortView {
  const mark = fromMark(l.alias);
  const byPort = (state?.instances ?? []).filter((i) => i.port === l.name);
  const inst = (state?.instances ?? []).find((i) => i.id === mark.instance) ?? (byPort.length === 1 ? byPort[0] : undefined);
  const instance = mark.instance ?? inst?.id;
  const group = instance ? (inst?.group ?? mark.group ?? bridgeGroup) : undefined;
  return { name: l.name, ...(instance ? { instance } : {}), ...(group ? { group } : {}) };
}

export function structuredRuleset(rs: Ruleset): StructuredRuleset {
  const setKey = (s: { family: string; table: string; name: string }) => `${s.family} ${s.table} ${s.name}`;
  return {
    tables: rs.tables.map((t) => ({ family: t.family, name: t.name })),
    chains: rs.chains.map((c) => ({
      family: c.family,
      table: c.table,
      name: c.name,
      ...(c.type ? { type: c.type } : {}),
      ...(c.hook ? { hook: c.hook } : {}),
      ...(c.priority !== undefined ? { priority: c.priority } : {}),
      ...(c.policy ? { policy: c.policy } : {}),
    })),
    sets: rs.sets
      .filter((s) => !s.flags?.includes('anonymous'))
      .map((s) => {
        const els = rs.elements?.get(setKey(s)) ?? [];
        const text = els.length ? renderElements(s, els) : '';
        const elements = text
          ? text
              .replace(/^\{\s*|\s*\}$/g, '')
              .split(/,\s*/)
              .filter(Boolean)
          : [];
        return { family: s.family, table: s.table, name: s.name, type: renderSetLines(s)[0].replace(/^type /, ''), elements };
      }),
    rules: rs.rules.map((r) => ({
      family: r.family,
      table: r.table,
      chain: r.chain,
      ...(r.handle !== undefined ? { handle: Number(r.handle) } : {}),
      ...(r.comment !== undefined ? { comment: r.comment } : {}),
      rule: renderRule({ ...r, comment: undefined }),
    })),
  };
}

/** dnsmasq's status and leases ("<expiry> <mac> <ip> <hostname|*> ..."), read from its state directory. */
export async function readDhcpView(server: DhcpServer): Promise<DhcpView> {
  const st = await server.status();
  let text = '';
  try {
    text = readFileSync(server.paths.leases, 'utf8');
  } catch {
    // no lease file yet
  }
  const leases = text
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [expiry = '0', mac = '', ip = '', host = '*'] = line.split(' ');
      return { ip, mac, ...(host !== '*' ? { hostname: host } : {}), expires: expiry === '0' ? 'never' : new Date(Number(expiry) * 1000).toISOString() };
    });
  return { running: st.running, ...(st.pid !== undefined ? { pid: st.pid } : {}), dir: server.paths.dir, leases };
}

export interface ShowOptions {
  /** Names instances and groups from the state where the marks do not. */
  state?: State | AllocatedState;
  /** The host's DHCP server, to report on (the cluster controller's). */
  dhcp?: DhcpServer;
}

export async function readHostView(h: Handle, opts: ShowOptions = {}): Promise<HostView> {
  const links = await h.links.list();
  const byIndex = new Map(links.map((l) => [l.index, l]));
  const name = (i: number | undefined) => (i === undefined ? undefined : byIndex.get(i)?.name);
  const owned = links.filter((l) => isOwnedAlias(l.alias));
  const role = (alias: string | undefined) => aliasOwner(alias) || undefined;
  const ports: HostView['ports'] = [];
  const bridges = owned
    .filter((l) => l.kind === 'bridge')
    .map((b) => {
      const detail = aliasDetail(b.alias);
      const group = detail && detail.includes('/') ? detail : undefined;
      const members = links.filter((l) => l.master === b.index).sort((x, y) => x.name.localeCompare(y.name));
      for (const l of members) ports.push({ ...portView(l, group, opts.state), bridge: b.name });
      const r = role(b.alias);
      return { name: b.name, stp: b.bridge?.stp ?? false, ...(group ? { group } : {}), ...(r ? { role: r } : {}), ports: members.map((l) => l.name) };
    });
  const segments = owned
    .filter((l: Link) => l.kind === 'vlan' || l.kind === 'vxlan')
    .map((l) => {
      const s: HostView['segments'][number] = { name: l.name, kind: must(l.kind, `the kind of ${l.name}`) };
      if (l.vlan) s.vlan = l.vlan.id;
      const parent = name(l.parent);
      if (parent) s.parent = parent;
      if (l.vxlan?.vni !== undefined) s.vni = l.vxlan.vni;
      return s;
    });
  const addresses = (await h.addresses.list({ family: 4 }))
    .filter((a) => isEucanetProto(a.proto))
    .map((a) => {
      const r = roleOfProto(must(a.proto, `the protocol of ${a.address}`));
      return { dev: name(a.index) ?? String(a.index), address: `${a.address}/${a.prefix}`, ...(r ? { role: r } : {}) };
    });
  const rs = await h.nft.listRuleset();
  const mine: Ruleset = {
    tables: rs.tables.filter(isOwnedTable),
    chains: rs.chains.filter((c) => isOwnedTable({ name: c.table })),
    sets: rs.sets.filter((s) => isOwnedTable({ name: s.table })),
    rules: rs.rules.filter((r) => isOwnedTable({ name: r.table })),
    ...(rs.elements ? { elements: rs.elements } : {}),
  };
  const view: HostView = { segments, bridges, ports, addresses, ruleset: renderRuleset(mine), nft: structuredRuleset(mine) };
  if (opts.dhcp) view.dhcp = await readDhcpView(opts.dhcp);
  return view;
}

/** The machine form: the rules as objects, not a text blob. */
export function hostViewJson(v: HostView): string {
  const { ruleset: _text, nft, ...rest } = v;
  return `${JSON.stringify({ ...rest, ruleset: nft }, null, 2)}\n`;
}

export { formatHostView } from './show-format.js';
