// The address half of diffState: present addresses against desired ones.
// Runs over thousands of /32s on every re-apply, so an IPv4 address is keyed
// by a number (its 32 bits * 64 + the prefix length) rather than by text, and
// the desired side's keys can be computed before the kernel's dump arrives
// (prepareAddresses, while the dump is in flight: see reconcile.ts plan()).
import type { Address, AddressSpec } from '../rtnl/address.js';
import { bytesToIp, ipv4Number, parseCidr } from '../util/ip.js';
import type { DesiredState } from './desired.js';
import type { Op } from './ops.js';
import { EUCANET_PROTO, mayTouch, whoseProto, type OwnerScope } from './owner.js';

/** An address and prefix as a map key: IPv4 as a number, anything else as canonical text "addr/prefix". */
export type AddrKey = number | string;

/** The key of an address as decoded from the kernel (canonical text: util/ip.ts bytesToIp). */
export function presentKey(address: string, prefix: number): AddrKey {
  const v = ipv4Number(address);
  return v >= 0 ? v * 64 + prefix : `${address}/${prefix}`;
}

/** A prefix length in the form parseCidr accepts (1 to 3 decimal digits) up to 32, or -1. */
function v4Prefix(text: string, from: number): number {
  const n = text.length - from;
  if (n < 1 || n > 3) return -1;
  let p = 0;
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return -1;
    p = p * 10 + (c - 48);
  }
  return p <= 32 ? p : -1;
}

/**
 * The key of a desired address ("a.b.c.d/p", or any form parseCidr takes).
 * Plain IPv4 is keyed straight from the text; everything else goes through
 * parseCidr, which also refuses bad input with a ValidationError naming it.
 */
export function desiredKey(text: string): AddrKey {
  if (typeof text === 'string') {
    const slash = text.indexOf('/');
    const v = ipv4Number(slash < 0 ? text : text.slice(0, slash));
    const prefix = slash < 0 ? 32 : v4Prefix(text, slash + 1);
    if (v >= 0 && prefix >= 0) return v * 64 + prefix;
  }
  const c = parseCidr('address', text);
  return presentKey(bytesToIp(c.bytes), c.prefix);
}

/** The desired side of the address diff, computed from the desired state alone. */
export interface PreparedAddresses {
  keys: AddrKey[];
}

export function prepareAddresses(want: DesiredState): PreparedAddresses {
  const list = want.addresses ?? [];
  const keys = new Array<AddrKey>(list.length);
  for (let i = 0; i < list.length; i++) keys[i] = desiredKey(list[i].address);
  return { keys };
}

/**
 * Adds to `out` the address adds (appended) and deletes (put first) that take
 * `present` to `want`. `nameOf` names a link by ifindex.
 */
export function diffAddresses(
  present: readonly Address[],
  want: DesiredState,
  nameOf: (index: number | undefined) => string | undefined,
  out: { changes: Op[] },
  scope?: OwnerScope,
  prep: PreparedAddresses = prepareAddresses(want),
): void {
  // Present addresses (their position in `present`) by link name, then key;
  // a link without a name (gone) is left out.
  const byDev = new Map<string, Map<AddrKey, number>>();
  for (let i = 0; i < present.length; i++) {
    const a = present[i];
    const dev = nameOf(a.index);
    if (!dev) continue;
    let m = byDev.get(dev);
    if (!m) byDev.set(dev, (m = new Map<AddrKey, number>()));
    m.set(presentKey(a.address, a.prefix), i);
  }
  // Which present addresses are wanted, by position, and how many.
  const met = new Uint8Array(present.length);
  let metCount = 0;
  const list = want.addresses ?? [];
  for (let i = 0; i < list.length; i++) {
    const a = list[i];
    const dev = typeof a.dev === 'number' ? (nameOf(a.dev) ?? String(a.dev)) : a.dev;
    const have = byDev.get(dev)?.get(prep.keys[i]);
    if (have === undefined) out.changes.push({ op: 'address.add', spec: { ...a, proto: scope?.proto ?? EUCANET_PROTO } });
    else if (!met[have]) {
      met[have] = 1;
      metCount++;
    }
  }
  if (metCount === present.length) return;
  for (let i = 0; i < present.length; i++) {
    const a = present[i];
    if (met[i] || !mayTouch(whoseProto(a.proto, scope), scope)) continue;
    const dev = nameOf(a.index);
    if (!dev) continue;
    const spec: AddressSpec = { dev, address: `${a.address}/${a.prefix}` };
    out.changes.unshift({ op: 'address.delete', spec });
  }
}
