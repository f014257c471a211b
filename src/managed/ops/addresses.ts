// allocate-, associate-, disassociate- and release-address as pure functions:
// state -> { state, changes }. An allocated address not associated with an
// instance is kept in reservedIps (out of the pool).
import { ValidationError } from '../../errors.js';
import { intToIpv4 } from '../../util/ip.js';
import { nextPublicIp } from '../allocate.js';
import { parseIpv4Int } from '../net.js';
import { parsePool, poolContains } from '../pool.js';
import type { State } from '../types.js';
import { base, findInstance, finish, type OpResult } from './result.js';
import { publicIpHolder } from './instances.js';

const sameIp = (a: string, b: string): boolean => parseIpv4Int('ip', a) === parseIpv4Int('ip', b);

/** Checks `ip` is an address of the pool; returns it in canonical form. */
function poolAddress(s: State, ip: string): string {
  const n = parseIpv4Int('ip', ip);
  if (!poolContains(parsePool(s.publicIps ?? []), n)) {
    throw new ValidationError('ip', ip, `is not in the public pool (publicIps: ${(s.publicIps ?? []).join(' ') || 'empty'})`);
  }
  return intToIpv4(n);
}

/** Takes the lowest free address out of the pool, for a later associate-address. */
export function allocateAddress(state: State): OpResult {
  const s = base(state);
  const ip = nextPublicIp(s);
  s.reservedIps = [...(s.reservedIps ?? []), ip];
  return finish(s, () => [{ kind: 'address-allocated', ip }]);
}

/** Gives an allocated address to an instance that has none. */
export function associateAddress(state: State, ip: string, id: string): OpResult {
  const s = base(state);
  const addr = poolAddress(s, ip);
  const inst = findInstance(s, id);
  const reserved = s.reservedIps ?? [];
  if (!reserved.some((r) => sameIp(r, addr))) {
    const holder = publicIpHolder(s, addr);
    throw new ValidationError('ip', ip, holder ? `is associated with ${holder}` : 'is not allocated (allocate-address first)');
  }
  if (typeof inst.publicIp === 'string') throw new ValidationError('instance', id, `already has public address ${inst.publicIp}`);
  s.reservedIps = reserved.filter((r) => !sameIp(r, addr));
  inst.publicIp = addr;
  return finish(s, () => [{ kind: 'address-associated', ip: addr, instance: id }]);
}

/** Takes the address from its instance; it stays allocated (reserved). */
export function disassociateAddress(state: State, ip: string): OpResult {
  const s = base(state);
  const addr = poolAddress(s, ip);
  const inst = (s.instances ?? []).find((i) => typeof i.publicIp === 'string' && sameIp(i.publicIp, addr));
  if (!inst) throw new ValidationError('ip', ip, 'is not associated with any instance');
  delete inst.publicIp;
  s.reservedIps = [...(s.reservedIps ?? []), addr];
  return finish(s, () => [{ kind: 'address-disassociated', ip: addr, instance: inst.id }]);
}

/** Gives an allocated, unassociated address back to the pool. */
export function releaseAddress(state: State, ip: string): OpResult {
  const s = base(state);
  const addr = poolAddress(s, ip);
  const reserved = s.reservedIps ?? [];
  if (!reserved.some((r) => sameIp(r, addr))) {
    const holder = publicIpHolder(s, addr);
    throw new ValidationError('ip', ip, holder ? `is still associated with ${holder} (disassociate-address first)` : 'is not allocated');
  }
  s.reservedIps = reserved.filter((r) => !sameIp(r, addr));
  return finish(s, () => [{ kind: 'address-released', ip: addr }]);
}
