// What counts as drift: a pure judge over the namespace's events. An event is
// drift when it touches something this role owns and this agent did not cause
// it:
//   links      a wanted link (the role's bridges, VXLAN/VLAN devices, the
//              instances' ports) deleted, down when wanted up, or with another
//              master than wanted (a port taken out of its bridge);
//   addresses  and routes with the role's protocol number (tx/owner.ts), added
//              or removed by another socket than the agent's;
//   nftables   any change in the role's tables (ROLE_TABLES) by another socket;
//   FDB        a wanted FDB entry (a VXLAN flood list's destination, a static
//              MAC: the desired state's fdb) deleted by another socket
//              (drift-fdb.ts); held during a sync like links, since the
//              kernel's own removals (a device the sync deletes) carry no port.
// Link notifications carry no port id (the kernel gives 0), so links are
// judged by their content against the wanted state instead: while a sync runs,
// the last event of each link is kept and judged when the sync ends, so the
// intermediate states of the agent's own changes are not taken for drift. The
// agent has the source read its sockets first (DriftSource.settle): every
// echo of the sync is then held, however late the event loop would have read
// it, and a change someone made after the agent's own is the last one kept.
import type { LinkSpec } from '../rtnl/link.js';
import type { DesiredState } from '../tx/desired.js';
import { ROLE_PROTO, ROLE_TABLES } from '../tx/owner.js';
import { fdbEventKey, patchWantedFdb, type FdbEvent, type FdbPatch } from './drift-fdb.js';

/** The fields of the events (src/events/) the judge reads. */
export type JudgedEvent =
  | { type: 'link'; action: 'new' | 'del'; existing?: true; bridge?: true; link: { index: number; name: string; up: boolean; master?: number } }
  | { type: 'address'; action: 'new' | 'del'; existing?: true; port: number; address: { address: string; prefix: number; proto?: number } }
  | { type: 'route'; action: 'new' | 'del'; existing?: true; port: number; route: { dst: string; protocol: number } }
  | { type: 'table'; action: 'new' | 'del'; existing?: true; port: number; table: { name: string } }
  | { type: 'chain' | 'rule'; action: 'new' | 'del'; existing?: true; port: number; chain?: { table: string }; rule?: { table: string } }
  | { type: 'set'; action: 'new' | 'del'; existing?: true; port: number; set: { table: string } }
  | { type: 'element'; action: 'new' | 'del'; existing?: true; port: number; set: { table: string } }
  | FdbEvent
  | { type: 'resync'; source: string }
  | { type: string };

/** A wanted link: its master's name (null: none) and whether it must be up, when the desired state says. */
export interface WantedLink {
  master?: string | null;
  up?: boolean;
}

/** The links a desired state wants, by name. */
export function wantedLinksOf(d: DesiredState): Map<string, WantedLink> {
  const out = new Map<string, WantedLink>();
  const add = (l: Pick<LinkSpec, 'name' | 'master' | 'up'>) => {
    const w: WantedLink = {};
    if (typeof l.master === 'string' || l.master === null) w.master = l.master;
    if (l.up !== undefined) w.up = l.up;
    out.set(l.name, w);
  };
  for (const l of d.links ?? []) add(l);
  for (const p of d.ports ?? []) add(p);
  return out;
}

/** A wanted set, or a function that makes it when first needed. */
export type Wanted<T> = T | (() => T);

type LinkState = { index: number; name: string; up: boolean; master?: number };

export class DriftJudge {
  private readonly proto: number;
  private readonly tables: ReadonlySet<string>;
  /** ifindex of each link seen, by name (to compare masters). */
  private readonly index = new Map<string, number>();
  /** While a sync runs: the last state of each link an event reported (undefined: deleted). */
  private held?: Map<string, LinkState | undefined>;
  /** The wanted links, or how to make them (made at the first event that needs them, once). */
  private wantedOf: Wanted<Map<string, WantedLink>> = new Map();
  /** The wanted FDB entries (drift-fdb.ts wantedFdbOf), or how to make them. */
  private fdbOf: Wanted<Set<string>> = new Set();
  /** While a sync runs: FDB entries others deleted, judged when it ends. */
  private heldFdb: FdbEvent[] = [];

  constructor(
    role: 'cc' | 'nc',
    private readonly ownPort: (port: number) => boolean,
  ) {
    this.proto = ROLE_PROTO[role];
    this.tables = new Set(ROLE_TABLES[role]);
  }

  /** The agent starts a sync: link events are held until it ends. */
  syncStarted(): void {
    this.held ??= new Map();
  }

  /**
   * The sync ended with this wanted state (undefined: as before): the held
   * links are judged against it. Each may be given as a function, called at
   * the first event that needs it: a version whose links or FDB nobody
   * touches then costs no walk over thousands of ports and entries. The FDB
   * may come as a patch of the set the judge has (drift-fdb.ts wantedFdbAfter).
   */
  syncEnded(wanted: Wanted<Map<string, WantedLink>> | undefined, fdb?: Wanted<Set<string>> | FdbPatch): string[] {
    if (wanted) this.wantedOf = wanted;
    if (fdb) this.fdbOf = typeof fdb === 'object' && !(fdb instanceof Set) ? patchWantedFdb(this.fdbOf, fdb) : fdb;
    const held = this.held;
    this.held = undefined;
    const out: string[] = [];
    for (const [name, l] of held ?? []) {
      const why = this.judgeLink(name, l);
      if (why) out.push(why);
    }
    for (const ev of this.heldFdb.splice(0)) {
      const why = this.judgeFdb(ev);
      if (why) out.push(why);
    }
    return out;
  }

  /** Why this event is drift (a readable reason), 'resync' for lost events, or undefined. */
  judge(ev: JudgedEvent): string | undefined {
    if (ev.type === 'resync') return 'resync';
    if (!('action' in ev)) return undefined;
    if (ev.type === 'link' && 'link' in ev) {
      // A bridge's 'del' about its port: the port is out of the bridge, not gone.
      if (ev.bridge && ev.action === 'del') return this.onLink('new', { ...ev.link, master: undefined }, !!ev.existing);
      return this.onLink(ev.action, ev.link, !!ev.existing);
    }
    if (ev.existing || !('port' in ev) || this.ownPort(ev.port)) return undefined;
    if (ev.type === 'neighbor' && 'neighbor' in ev) {
      if (ev.action !== 'del' || ev.neighbor.family !== 'bridge') return undefined;
      if (!this.held) return this.judgeFdb(ev);
      this.heldFdb.push(ev);
      return undefined;
    }
    const verb = ev.action === 'new' ? 'added or changed' : 'removed';
    if (ev.type === 'address' && 'address' in ev) {
      return ev.address.proto === this.proto ? `address ${ev.address.address}/${ev.address.prefix} ${verb}` : undefined;
    }
    if (ev.type === 'route' && 'route' in ev) return ev.route.protocol === this.proto ? `route ${ev.route.dst} ${verb}` : undefined;
    const table = tableOf(ev);
    return table !== undefined && this.tables.has(table) ? `nftables ${ev.type} in table ${table} ${verb}` : undefined;
  }

  private onLink(action: 'new' | 'del', l: LinkState, existing: boolean): string | undefined {
    if (action === 'new') this.index.set(l.name, l.index);
    else if (this.index.get(l.name) === l.index) this.index.delete(l.name);
    if (existing) return undefined;
    const state = action === 'new' ? l : undefined;
    if (this.held) {
      this.held.set(l.name, state);
      return undefined;
    }
    return this.judgeLink(l.name, state);
  }

  private get wanted(): Map<string, WantedLink> {
    if (typeof this.wantedOf === 'function') this.wantedOf = this.wantedOf();
    return this.wantedOf;
  }

  private get fdb(): Set<string> {
    if (typeof this.fdbOf === 'function') this.fdbOf = this.fdbOf();
    return this.fdbOf;
  }

  private judgeLink(name: string, l: LinkState | undefined): string | undefined {
    const w = this.wanted.get(name);
    if (!w) return undefined;
    if (!l) return `link ${name} deleted`;
    if (w.up === true && !l.up) return `link ${name} down`;
    if (w.master === undefined) return undefined;
    const want = w.master === null ? undefined : this.index.get(w.master);
    if (w.master !== null && want === undefined) return `link ${name}: its master ${w.master} is gone`;
    return l.master !== want ? `link ${name} ${l.master === undefined ? 'detached from' : 'moved from'} ${w.master ?? 'no master'}` : undefined;
  }

  /** A deleted FDB entry: drift when it is wanted on a link that is still there. */
  private judgeFdb(ev: FdbEvent): string | undefined {
    let dev: string | undefined;
    for (const [name, index] of this.index) if (index === ev.neighbor.index) dev = name;
    if (dev === undefined) return undefined;
    const key = fdbEventKey(dev, ev.neighbor);
    return this.fdb.has(key)
      ? `fdb entry ${ev.neighbor.lladdr ?? ''}${ev.neighbor.dst !== undefined ? ` dst ${ev.neighbor.dst}` : ''} on ${dev} deleted`
      : undefined;
  }
}

function tableOf(ev: JudgedEvent): string | undefined {
  if ('table' in ev && typeof ev.table === 'object' && ev.table) return ev.table.name;
  if ('chain' in ev && ev.chain) return ev.chain.table;
  if ('rule' in ev && ev.rule) return ev.rule.table;
  if ('set' in ev && ev.set) return ev.set.table;
  return undefined;
}
