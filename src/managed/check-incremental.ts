// Validation of successive versions of one state at the cost of what changed
// between them (issue 17: an agent checks every version; at 5000 instances a
// full check is most of its CPU per version).
//
// Versions are told apart by object identity: a store that keeps its parsed
// objects between versions (the etcd store's cache, one object per key) hands
// an unchanged group or instance over as the same object. Each instance's own
// checks (its shape, its group, node, port, addresses: checkInstance, the code
// the full check runs) run once, when the object first appears or its group's
// block changes; what must hold across instances (unique ids, ports, private
// and public addresses, MACs; ports per bridge) is kept as counts updated per
// instance that comes or goes. The settings and hosts (context) and the groups
// (few, with cross-references) are checked whole when any of them changed; a
// changed context starts over.
//
// check() says only whether the state is valid. When it is not, the caller
// runs the full validation (validateState), which throws the very error a
// full check gives (the first problem, in document order, with its field).
// test/unit/check-incremental.test.ts compares the two over random edits.
import { ValidationError } from '../errors.js';
import { checkGroupAlone, groupsAcross, type GroupAlone, type GroupInfo } from './check-groups.js';
import { bridgeOf, checkInstance, checkPublicIp, MAX_BRIDGE_PORTS, type Seen } from './check-instances.js';
import { checkNetwork, type NetCtx } from './check-network.js';
import { clustersOf, type ClusterView } from './clusters.js';
import { parseIpv4Int } from './net.js';
import { validate } from './state-validator.js';
import { checkState } from './validate.js';
import type { Group, Instance, State } from './types.js';

const schemaOk = validate as (doc: unknown) => boolean;
/** A document whose one list is checked against the schema (the lists' item schemas stand alone). */
const listDoc = (key: 'groups' | 'instances' | 'reservedIps', list: unknown[]) => ({ mode: 'MANAGED', subnet: '', addrsPerNet: 16, [key]: list });

/** A multiset that counts the values held more than `limit` times. */
class Counts<T> {
  private readonly n = new Map<T, number>();
  over = 0;
  constructor(private readonly limit = 1) {}
  add(k: T): void {
    const c = (this.n.get(k) ?? 0) + 1;
    this.n.set(k, c);
    if (c === this.limit + 1) this.over++;
  }
  remove(k: T): void {
    const c = this.n.get(k) ?? 0;
    if (c === this.limit + 1) this.over--;
    if (c <= 1) this.n.delete(k);
    else this.n.set(k, c - 1);
  }
  has(k: T): boolean {
    return this.n.has(k);
  }
}

/** One instance as checked: whether its own checks passed, and its values that must be unique. */
interface Rec {
  ok: boolean;
  /** The pass that last saw it (to find the instances gone). */
  pass: number;
  keys: [kind: keyof Seen, key: string | number][];
  bridge?: string;
  group?: string;
}

/** A recorder of the values checkInstance hands to its uniqueness checks. */
function recorder(keys: Rec['keys']): Seen {
  const sink = (kind: keyof Seen) => ({ add: (key: string | number) => void keys.push([kind, key]) });
  return { ids: sink('ids'), ports: sink('ports'), privateIps: sink('privateIps'), macs: sink('macs'), publicIps: sink('publicIps') };
}

/** A group's block as instances see it: which group, and its network (or none). */
const blockKey = (g: GroupInfo | undefined) => (g ? `${g.block?.network ?? '-'}/${g.block?.prefix ?? '-'}` : 'none');

const CONTEXT_LISTS = new Set(['groups', 'instances', 'reservedIps']);

export class IncrementalCheck {
  /** The top-level values (hosts one level down) the context was checked with. */
  private context?: Map<string, unknown>;
  /** The top-level values but the lists, as last seen: all the same objects, the context is the same (no walk over the hosts). */
  private top?: Map<string, unknown>;
  /** The instances list last found valid as a whole: handed over again (a version that changed no instance), it is not walked again. */
  private checkedList?: unknown[];
  private net?: NetCtx;
  private clusters: ClusterView[] = [];
  private groupList: Group[] = [];
  private groups?: Map<string, GroupInfo>;
  /** Each group object's own checks (checkGroupAlone; undefined: it failed them), done once per object in one context. */
  private alone = new WeakMap<Group, GroupAlone | undefined>();
  private readonly recs = new Map<Instance, Rec>();
  private readonly byGroup = new Map<string, Set<Instance>>();
  /** A first version, checked whole, whose counts are not built yet. */
  private unindexed?: unknown;
  private bad = 0;
  private pass = 0;
  private uniq = this.counters();
  private bridges = new Counts<string>(MAX_BRIDGE_PORTS - 1);

  private counters(): Record<keyof Seen, Counts<string | number>> {
    return { ids: new Counts(), ports: new Counts(), privateIps: new Counts(), macs: new Counts(), publicIps: new Counts() };
  }

  /** Whether `doc` is a valid state (as validateState judges it), at the cost of what changed since the last call. */
  check(doc: unknown): doc is State {
    const pending = this.unindexed;
    if (pending !== undefined) {
      this.unindexed = undefined;
      if (pending !== doc) this.incremental(pending);
    } else if (!this.net) {
      // Nothing known yet: one full check (building the counts costs more
      // than a full check); they are built by index(), or by the next check.
      if (!this.attempt(() => checkState(doc))) return false;
      this.unindexed = doc;
      return true;
    }
    return this.incremental(doc);
  }

  /** Whether a first version is checked but not yet counted (index() would build its counts). */
  get pending(): boolean {
    return this.unindexed !== undefined;
  }

  /** Builds the counts of the version last checked, if not done yet: for an idle moment, so that the next check costs what changed. */
  index(): void {
    const doc = this.unindexed;
    this.unindexed = undefined;
    if (doc !== undefined) this.incremental(doc);
  }

  private incremental(doc: unknown): doc is State {
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return this.reset();
    const s = doc as State & Record<string, unknown>;
    if (![s.groups, s.instances, s.reservedIps].every((l) => l === undefined || Array.isArray(l))) return this.reset();
    if (this.contextChanged(s)) {
      this.reset();
      if (!this.checkContext(s)) return false;
    }
    if (!this.checkGroups(s)) return false;
    if (!this.checkInstances(s.instances ?? [])) return false;
    return (
      this.bad === 0 &&
      this.uniq.ids.over + this.uniq.ports.over + this.uniq.privateIps.over + this.uniq.macs.over === 0 &&
      this.bridges.over === 0 &&
      this.checkPublic(s.reservedIps ?? [])
    );
  }

  /** Forgets everything (the next check starts over); false. */
  private reset(): false {
    this.context = undefined;
    this.net = undefined;
    return this.forgetGroups();
  }

  /** Forgets the groups and instances (the next check checks them all); false. */
  private forgetGroups(): false {
    this.groups = undefined;
    this.alone = new WeakMap();
    this.groupList = [];
    this.checkedList = undefined;
    this.recs.clear();
    this.byGroup.clear();
    this.bad = 0;
    this.uniq = this.counters();
    this.bridges = new Counts<string>(MAX_BRIDGE_PORTS - 1);
    return false;
  }

  /** The context as compared between versions: every top-level value but the lists, the hosts one level down. */
  private static contextOf(s: Record<string, unknown>): Map<string, unknown> {
    const out = new Map<string, unknown>();
    for (const [k, v] of Object.entries(s)) {
      if (CONTEXT_LISTS.has(k)) continue;
      if ((k === 'nodes' || k === 'clusters') && typeof v === 'object' && v !== null) {
        out.set(k, Object.keys(v).length);
        for (const [name, h] of Object.entries(v)) out.set(`${k}\u0000${name}`, h);
      } else out.set(k, v);
    }
    return out;
  }

  private contextChanged(s: Record<string, unknown>): boolean {
    if (this.net && this.context && this.sameTop(s)) return false;
    const now = IncrementalCheck.contextOf(s);
    const before = this.context;
    this.context = now;
    if (!before || before.size !== now.size || !this.net) return true;
    for (const [k, v] of now) if (before.get(k) !== v || !before.has(k)) return true;
    return false;
  }

  /** Whether every top-level value but the lists is the very object last seen (and no key came or went); records them. */
  private sameTop(s: Record<string, unknown>): boolean {
    const before = this.top;
    const now = new Map<string, unknown>();
    let same = before !== undefined;
    for (const k in s) {
      if (CONTEXT_LISTS.has(k) || !Object.hasOwn(s, k)) continue;
      now.set(k, s[k]);
      if (same && (before === undefined || before.get(k) !== s[k] || !before.has(k))) same = false;
    }
    this.top = now;
    return same && before?.size === now.size;
  }

  private checkContext(s: State & Record<string, unknown>): boolean {
    const rest = Object.fromEntries(Object.entries(s).filter(([k]) => !CONTEXT_LISTS.has(k)));
    if (!schemaOk(rest)) return this.reset();
    const net = this.attempt(() => checkNetwork(s));
    if (!net) return this.reset();
    this.context = IncrementalCheck.contextOf(s);
    this.net = net;
    this.clusters = clustersOf(s);
    return true;
  }

  /**
   * The groups: each group object's own checks once (a changed group is a
   * new object), then what holds across them (unique names, chains, VLANs
   * and subnets; rules' source groups exist), as checkGroups judges the whole
   * list. The instances of a group whose block changed are checked again.
   */
  private checkGroups(s: State): boolean {
    const list = s.groups ?? [];
    if (this.groups && list.length === this.groupList.length && list.every((g, i) => g === this.groupList[i])) return true;
    const before = this.groups;
    this.groups = undefined;
    const after = this.acrossGroups(s, list);
    if (!after) {
      // Instances are checked against their groups: with none known, they are checked again next time.
      return this.forgetGroups();
    }
    this.groups = after;
    this.groupList = list;
    if (!before) return true;
    for (const key of new Set([...before.keys(), ...after.keys()])) {
      if (blockKey(before.get(key)) === blockKey(after.get(key))) continue;
      for (const inst of [...(this.byGroup.get(key) ?? [])]) {
        this.remove(inst);
        this.add(inst, this.pass);
      }
    }
    return true;
  }

  /** The groups by key when every group passes its own checks (each object once) and the checks across groups; else undefined. */
  private acrossGroups(s: State, list: Group[]): Map<string, GroupInfo> | undefined {
    const net = this.net as NetCtx;
    const all: GroupAlone[] = [];
    for (const g of list) {
      if (!this.alone.has(g)) {
        const ok = typeof g === 'object' && g !== null && schemaOk(listDoc('groups', [g]));
        this.alone.set(g, ok ? this.attempt(() => checkGroupAlone(s, net, g)) : undefined);
      }
      const a = this.alone.get(g);
      if (!a) return undefined;
      all.push(a);
    }
    return groupsAcross(all);
  }

  private checkInstances(list: Instance[]): boolean {
    const was = this.checkedList;
    if (was && this.groups) {
      if (list === was) return true;
      const patched = this.patchInstances(was as Instance[], list);
      if (patched !== undefined) return patched;
    }
    const pass = ++this.pass;
    for (const inst of list) {
      const rec = this.recs.get(inst);
      if (rec?.pass === pass) return this.reset(); // one object twice: not a parsed document
      if (rec) rec.pass = pass;
      else this.add(inst, pass);
    }
    if (list.length !== this.recs.size) {
      for (const [inst, rec] of this.recs) if (rec.pass !== pass) this.remove(inst);
    }
    this.checkedList = list;
    return true;
  }

  /**
   * The instances list checked last, `was`, and the new one differ in a few
   * objects between a common head and tail (a run-instance, a terminate):
   * only those are removed and added, with no walk over the others (which
   * are the objects of `was`, so their records stand). Undefined when more
   * than a few differ (the caller walks the list); false when an object is
   * in the new list twice (as the walk finds).
   */
  private patchInstances(was: Instance[], list: Instance[]): boolean | undefined {
    let head = 0;
    while (head < was.length && head < list.length && was[head] === list[head]) head++;
    let tail = 0;
    while (tail < was.length - head && tail < list.length - head && was[was.length - 1 - tail] === list[list.length - 1 - tail]) tail++;
    const gone = was.slice(head, was.length - tail);
    const come = list.slice(head, list.length - tail);
    if (gone.length + come.length > 64) return undefined;
    const goneSet = new Set(gone);
    const comeSet = new Set(come);
    if (comeSet.size !== come.length) return this.reset(); // one object twice: not a parsed document
    // An object new here but already recorded is in the head or tail too: twice.
    for (const inst of come) if (!goneSet.has(inst) && this.recs.has(inst)) return this.reset();
    for (const inst of gone) if (!comeSet.has(inst)) this.remove(inst);
    for (const inst of come) if (!goneSet.has(inst)) this.add(inst, this.pass);
    this.checkedList = list;
    return true;
  }

  private add(inst: Instance, pass: number): void {
    const rec: Rec = { ok: false, pass, keys: [] };
    this.recs.set(inst, rec);
    const env = { ctx: this.net as NetCtx, groups: this.groups as Map<string, GroupInfo>, clusters: this.clusters };
    if (typeof inst === 'object' && inst !== null && schemaOk(listDoc('instances', [inst]))) {
      rec.group = inst.group;
      let set = this.byGroup.get(inst.group);
      if (!set) this.byGroup.set(inst.group, (set = new Set()));
      set.add(inst);
      rec.ok =
        this.attempt(() => {
          checkInstance(inst, 'instance', env, recorder(rec.keys));
          return true;
        }) === true;
    }
    if (!rec.ok) {
      this.bad++;
      rec.keys = [];
      return;
    }
    for (const [kind, key] of rec.keys) this.uniq[kind].add(key);
    rec.bridge = bridgeOf(inst, env.ctx);
    this.bridges.add(rec.bridge);
  }

  private remove(inst: Instance): void {
    const rec = this.recs.get(inst);
    if (!rec) return;
    this.recs.delete(inst);
    if (rec.group !== undefined) this.byGroup.get(rec.group)?.delete(inst);
    if (!rec.ok) this.bad--;
    for (const [kind, key] of rec.keys) this.uniq[kind].remove(key);
    if (rec.bridge !== undefined) this.bridges.remove(rec.bridge);
  }

  /** Instances' public addresses unique, and the reserved ones (few: checked whole) valid and unique with them. */
  private checkPublic(reserved: string[]): boolean {
    if (this.uniq.publicIps.over) return false;
    if (!reserved.length) return true;
    if (!schemaOk(listDoc('reservedIps', reserved))) return false;
    const mine = new Counts<number>();
    const seen = { publicIps: { add: (ip: number) => mine.add(ip) } };
    const net = this.net as NetCtx;
    const ok = (ip: string) =>
      this.attempt(() => {
        checkPublicIp(ip, 'reservedIps', net, seen);
        return true;
      });
    if (!reserved.every(ok)) return false;
    return mine.over === 0 && reserved.every((ip) => !this.uniq.publicIps.has(parseIpv4Int('reservedIps', ip)));
  }

  /** fn's result, or undefined when it throws a ValidationError (anything else is rethrown). */
  private attempt<T>(fn: () => T): T | undefined {
    try {
      return fn();
    } catch (err) {
      if (err instanceof ValidationError) return undefined;
      throw err;
    }
  }
}
