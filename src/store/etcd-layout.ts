// How a cloud's state is laid out in etcd: one key per object under
// /eucanet/<cloud>/state/, so that an operation on one instance writes only
// that instance's key. Pure functions: a State to a key->value map and back.
//
//   /eucanet/<cloud>/state/settings            every field but the lists below (JSON)
//   /eucanet/<cloud>/state/nodes/<name>        a NodeHost (JSON)
//   /eucanet/<cloud>/state/groups/<owner>/<name>  a Group (JSON)
//   /eucanet/<cloud>/state/instances/<id>      an Instance (JSON)
//   /eucanet/<cloud>/state/reserved/<ip>       a reserved public address (value "")
//   /eucanet/<cloud>/state/deleted             bumped by each write that deletes keys
//   /eucanet/<cloud>/status/<host>             an agent's status, under its lease
//
// Groups and instances keep their order in the state through an "order" field
// in their value (the position at the write), stripped on read.
import type { Group, Instance, NodeHost, State } from '../managed/types.js';

export const prefixOf = (cloud: string) => `/eucanet/${cloud}/`;
export const statePrefix = (cloud: string) => `${prefixOf(cloud)}state/`;
export const statusPrefix = (cloud: string) => `${prefixOf(cloud)}status/`;
export const DELETED_KEY = 'deleted';

/** The state's keys relative to the state prefix, with their JSON values. */
export function toKeys(state: State): Map<string, string> {
  const { nodes, groups, instances, reservedIps, ...settings } = state;
  const out = new Map<string, string>();
  out.set('settings', JSON.stringify(settings));
  for (const [name, n] of Object.entries(nodes ?? {})) out.set(`nodes/${name}`, JSON.stringify(n));
  (groups ?? []).forEach((g, order) => out.set(`groups/${g.owner}/${g.name}`, JSON.stringify({ ...g, order })));
  (instances ?? []).forEach((i, order) => out.set(`instances/${i.id}`, JSON.stringify({ ...i, order })));
  for (const ip of reservedIps ?? []) out.set(`reserved/${ip}`, '');
  return out;
}

const byOrder = <T>(list: { order: number; v: T }[]) => list.sort((a, b) => a.order - b.order).map((x) => x.v);

function unordered<T>(json: string): { order: number; v: T } {
  const { order, ...v } = JSON.parse(json) as { order?: number };
  return { order: order ?? 0, v: v as T };
}

/** Assembles a state (not yet validated) from its keys; throws naming the key when a value is not JSON. */
export function fromKeys(keys: Map<string, string>, where: string): unknown {
  const nodes: Record<string, NodeHost> = {};
  const groups: { order: number; v: Group }[] = [];
  const instances: { order: number; v: Instance }[] = [];
  const reservedIps: string[] = [];
  let settings: Record<string, unknown> | undefined;
  for (const [key, value] of keys) {
    try {
      if (key === 'settings') settings = JSON.parse(value) as Record<string, unknown>;
      else if (key.startsWith('nodes/')) nodes[key.slice(6)] = JSON.parse(value) as NodeHost;
      else if (key.startsWith('groups/')) groups.push(unordered<Group>(value));
      else if (key.startsWith('instances/')) instances.push(unordered<Instance>(value));
      else if (key.startsWith('reserved/')) reservedIps.push(key.slice(9));
    } catch (err) {
      throw new Error(`${where}${key}: not JSON (${(err as Error).message})`);
    }
  }
  if (!settings) return undefined;
  const state: Record<string, unknown> = { ...settings };
  if (Object.keys(nodes).length) state.nodes = nodes;
  if (groups.length) state.groups = byOrder(groups);
  if (instances.length) state.instances = byOrder(instances);
  if (reservedIps.length) state.reservedIps = reservedIps;
  return state;
}

/** What to put and delete to go from `before` to `after` (relative keys). */
export function diffKeys(before: Map<string, string>, after: Map<string, string>): { put: [string, string][]; del: string[] } {
  const put: [string, string][] = [];
  for (const [k, v] of after) if (before.get(k) !== v) put.push([k, v]);
  const del = [...before.keys()].filter((k) => k !== DELETED_KEY && !after.has(k));
  return { put, del };
}
