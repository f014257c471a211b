// How a cloud's state is laid out in etcd: one key per object under
// /eucanet/<cloud>/state/, so that an operation on one instance writes only
// that instance's key. Pure functions: a State to a key->value map and back.
//
//   /eucanet/<cloud>/state/settings            every field but the lists below (JSON)
//   /eucanet/<cloud>/state/nodes/<name>        a NodeHost (JSON; single-cluster form)
//   /eucanet/<cloud>/state/clusters/<name>     a Cluster, its CC and nodes (JSON; multi-cluster form)
//   /eucanet/<cloud>/state/groups/<owner>/<name>  a Group (JSON)
//   /eucanet/<cloud>/state/instances/<id>      an Instance (JSON)
//   /eucanet/<cloud>/state/reserved/<ip>       a reserved public address (value "")
//   /eucanet/<cloud>/state/deleted             bumped by each write that deletes keys
//   /eucanet/<cloud>/status/<host>             an agent's status, under its lease
//
// Names in keys are safe: the schema allows only [A-Za-z0-9_.-] in ids, owners,
// group, node and cluster names (no "/").
//
// Groups and instances keep their order in the state through an "order" field
// in their value, stripped on read. A write keeps the order numbers an object
// already had when they still increase (toKeys' `previous`), so removing or
// adding one instance rewrites no other instance's key.
import { ValidationError } from '../errors.js';
import type { Cluster, Group, Instance, NodeHost, State } from '../managed/types.js';

export const prefixOf = (cloud: string) => `/eucanet/${cloud}/`;
export const statePrefix = (cloud: string) => `${prefixOf(cloud)}state/`;
export const statusPrefix = (cloud: string) => `${prefixOf(cloud)}status/`;
/** A marker key every write that deletes keys puts, so that a delete moves the prefix's newest mod revision (etcd.ts). */
export const DELETED_KEY = 'deleted';

/** The order number stored in a key's value, if it has one (toKeys writes it last: read from the end, no parse). */
function orderIn(json: string | undefined): number | undefined {
  if (json === undefined) return undefined;
  const tail = /,"order":(\d+)\}$/.exec(json.slice(-30));
  if (tail) return Number(tail[1]);
  const o = (JSON.parse(json) as { order?: unknown }).order;
  return typeof o === 'number' ? o : undefined;
}

/** Keys with an order: each gets its previous order when that still increases, else the next number. */
function ordered<T extends object>(out: Map<string, string>, list: T[], key: (x: T) => string, previous: Map<string, string> | undefined): void {
  let last = -1;
  for (const x of list) {
    const k = key(x);
    const before = orderIn(previous?.get(k));
    const order = before !== undefined && before > last ? before : last + 1;
    last = order;
    out.set(k, withOrder(x, order));
  }
}

/**
 * The object's JSON with `"order":N` last, as JSON.stringify({ ...x, order })
 * writes it, without copying the object (5000 instances: the copies were
 * half of toKeys' time, and every write and `cloud put` runs it).
 */
function withOrder(x: object, order: number): string {
  if (Object.hasOwn(x, 'order')) return JSON.stringify({ ...x, order });
  const json = JSON.stringify(x);
  return json === '{}' ? `{"order":${order}}` : `${json.slice(0, -1)},"order":${order}}`;
}

/**
 * The state's keys relative to the state prefix, with their JSON values.
 * `previous` (the keys as read) lets objects keep their order numbers.
 */
export function toKeys(state: State, previous?: Map<string, string>): Map<string, string> {
  const { nodes, clusters, groups, instances, reservedIps, ...settings } = state;
  const out = new Map<string, string>();
  out.set('settings', JSON.stringify(settings));
  for (const [name, n] of Object.entries(nodes ?? {})) out.set(`nodes/${name}`, JSON.stringify(n));
  for (const [name, c] of Object.entries(clusters ?? {})) out.set(`clusters/${name}`, JSON.stringify(c));
  ordered(out, groups ?? [], (g) => `groups/${g.owner}/${g.name}`, previous);
  ordered(out, instances ?? [], (i) => `instances/${i.id}`, previous);
  for (const ip of reservedIps ?? []) out.set(`reserved/${ip}`, '');
  return out;
}

const byOrder = <T>(list: { order: number; v: T }[]) => list.sort((a, b) => a.order - b.order).map((x) => x.v);

function unordered<T>(json: string): { order: number; v: T } {
  const { order, ...v } = JSON.parse(json) as { order?: number };
  return { order: order ?? 0, v: v as T };
}

/** One key's value, parsed (the etcd store's cache keeps these per key). */
export type Parsed =
  | { kind: 'settings'; v: Record<string, unknown> }
  | { kind: 'node'; name: string; v: NodeHost }
  | { kind: 'cluster'; name: string; v: Cluster }
  | { kind: 'group'; order: number; v: Group }
  | { kind: 'instance'; order: number; v: Instance }
  | { kind: 'reserved'; ip: string }
  | { kind: 'other' };

/** Parses one key's value (relative key); throws JSON.parse's error. */
export function parseKey(key: string, value: string): Parsed {
  if (key === 'settings') return { kind: 'settings', v: JSON.parse(value) as Record<string, unknown> };
  if (key.startsWith('nodes/')) return { kind: 'node', name: key.slice(6), v: JSON.parse(value) as NodeHost };
  if (key.startsWith('clusters/')) return { kind: 'cluster', name: key.slice(9), v: JSON.parse(value) as Cluster };
  if (key.startsWith('groups/')) return { kind: 'group', ...unordered<Group>(value) };
  if (key.startsWith('instances/')) return { kind: 'instance', ...unordered<Instance>(value) };
  if (key.startsWith('reserved/')) return { kind: 'reserved', ip: key.slice(9) };
  return { kind: 'other' };
}

/**
 * Assembles a state (not yet validated) from its parsed keys, in key order.
 * The objects are shared with the parsed keys, not copied: the state's
 * readers must not change them (the operations are pure functions).
 */
export function assemble(parsed: Iterable<[string, Parsed]>): unknown {
  const nodes: Record<string, NodeHost> = {};
  const clusters: Record<string, Cluster> = {};
  const groups: { order: number; v: Group }[] = [];
  const instances: { order: number; v: Instance }[] = [];
  const reservedIps: string[] = [];
  let settings: Record<string, unknown> | undefined;
  for (const [, p] of parsed) {
    if (p.kind === 'settings') settings = p.v;
    else if (p.kind === 'node') nodes[p.name] = p.v;
    else if (p.kind === 'cluster') clusters[p.name] = p.v;
    else if (p.kind === 'group') groups.push(p);
    else if (p.kind === 'instance') instances.push(p);
    else if (p.kind === 'reserved') reservedIps.push(p.ip);
  }
  if (!settings) return undefined;
  const state: Record<string, unknown> = { ...settings };
  if (Object.keys(nodes).length) state.nodes = nodes;
  if (Object.keys(clusters).length) state.clusters = clusters;
  if (groups.length) state.groups = byOrder(groups);
  if (instances.length) state.instances = byOrder(instances);
  if (reservedIps.length) state.reservedIps = reservedIps;
  return state;
}

/** Assembles a state (not yet validated) from its keys; throws naming the key when a value is not JSON. */
export function fromKeys(keys: Map<string, string>, where: string): unknown {
  function* parsed(): Generator<[string, Parsed]> {
    for (const [key, value] of keys) {
      try {
        yield [key, parseKey(key, value)];
      } catch (err) {
        throw new ValidationError(`${where}${key}`, value.length > 40 ? `${value.slice(0, 40)}…` : value, `not JSON (${(err as Error).message})`);
      }
    }
  }
  return assemble(parsed());
}

/** What to put and delete to go from `before` to `after` (relative keys). */
export function diffKeys(before: Map<string, string>, after: Map<string, string>): { put: [string, string][]; del: string[] } {
  const put: [string, string][] = [];
  for (const [k, v] of after) if (before.get(k) !== v) put.push([k, v]);
  const del = [...before.keys()].filter((k) => k !== DELETED_KEY && !after.has(k));
  return { put, del };
}
