// run-instance and terminate-instance as pure functions: state -> { state, changes }.
import { ValidationError } from '../../errors.js';
import { intToIpv4 } from '../../util/ip.js';
import { allNodes } from '../clusters.js';
import { checkIfName } from '../fields.js';
import { parseIpv4Int } from '../net.js';
import { parsePool, poolContains } from '../pool.js';
import type { Instance, State } from '../types.js';
import { must } from '../../util/must.js';
import { base, findGroup, findInstance, finish, hint, type OpResult } from './result.js';

/** Whom a public address belongs to now: an instance id, "reserved" (allocated, not associated), or nothing. */
export function publicIpHolder(s: State, ip: string): string | undefined {
  const n = parseIpv4Int('ip', ip);
  const inst = (s.instances ?? []).find((i) => typeof i.publicIp === 'string' && parseIpv4Int('publicIp', i.publicIp) === n);
  if (inst) return `instance ${inst.id}`;
  if ((s.reservedIps ?? []).some((r) => parseIpv4Int('reservedIps', r) === n)) return 'allocate-address, not yet associated with an instance';
  return undefined;
}

/** Checks that `ip` is a free address of the public pool; returns it in canonical form. */
export function checkFreePublicIp(s: State, field: string, ip: string): string {
  const n = parseIpv4Int(field, ip);
  if (!poolContains(parsePool(s.publicIps ?? []), n)) {
    throw new ValidationError(field, ip, `is not in the public pool (publicIps: ${(s.publicIps ?? []).join(' ') || 'empty'})`);
  }
  const holder = publicIpHolder(s, ip);
  if (holder) throw new ValidationError(field, ip, `is taken: held by ${holder}`);
  return intToIpv4(n);
}

/**
 * Adds an instance to group `inst.group` on node `inst.node`. What it leaves
 * out (port, privateIp, mac; publicIp when `true`) is allocated: the lowest
 * free of each.
 */
export function runInstance(state: State, inst: Instance): OpResult {
  const s = base(state);
  if (typeof inst.id !== 'string' || inst.id === '') throw new ValidationError('id', inst.id, 'expected an instance id');
  if ((s.instances ?? []).some((i) => i.id === inst.id)) throw new ValidationError('id', inst.id, 'an instance with this id already exists');
  findGroup(s, inst.group);
  const nodes = allNodes(s);
  if (!Object.hasOwn(nodes, inst.node)) throw new ValidationError('node', inst.node, `no such node in the cloud${hint(Object.keys(nodes))}`);
  const add: Instance = { id: inst.id, group: inst.group, node: inst.node };
  if (inst.port !== undefined) {
    add.port = checkIfName('port', inst.port);
    const user = (s.instances ?? []).find((i) => i.node === inst.node && i.port === inst.port);
    if (user) throw new ValidationError('port', inst.port, `is the port of instance ${user.id} on node ${inst.node}`);
  }
  if (inst.privateIp !== undefined) add.privateIp = inst.privateIp;
  if (inst.mac !== undefined) add.mac = inst.mac;
  if (typeof inst.publicIp === 'string') add.publicIp = checkFreePublicIp(s, 'publicIp', inst.publicIp);
  else if (inst.publicIp === true) add.publicIp = true;
  s.instances = [...(s.instances ?? []), add];
  return finish(s, (a) => {
    const i = must(a.instances.at(-1), 'the instance just added');
    const { id, group, node, port, privateIp, mac, publicIp } = i;
    return [{ kind: 'instance-added', id, group, node, port, privateIp, mac, ...(publicIp !== undefined ? { publicIp } : {}) }];
  });
}

/** Removes an instance; its private address and its public one (if any) go back to their pools. */
export function terminateInstance(state: State, id: string): OpResult {
  const s = base(state);
  const inst = findInstance(s, id);
  s.instances = (s.instances ?? []).filter((i) => i !== inst);
  // base() made its addresses explicit.
  const privateIp = must(inst.privateIp, `the privateIp of ${id}`);
  const publicIp = typeof inst.publicIp === 'string' ? { publicIp: inst.publicIp } : {};
  return finish(s, () => [{ kind: 'instance-removed', id, group: inst.group, node: inst.node, privateIp, ...publicIp }]);
}
