// The address diff's keys (src/tx/addr-diff.ts): IPv4 keyed by number and
// computed from the desired text straight, against the general path (parse
// with parseCidr, print the kernel's canonical text, compare "dev|text/prefix"
// strings), on generated states: the same ops, in the same order.
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.js';
import type { Address, AddressSpec } from '../../src/rtnl/address.js';
import { desiredKey, diffAddresses, presentKey, prepareAddresses } from '../../src/tx/addr-diff.js';
import type { DesiredState } from '../../src/tx/desired.js';
import type { Op } from '../../src/tx/ops.js';
import { EUCANET_PROTO, mayTouch, whoseProto, type OwnerScope } from '../../src/tx/owner.js';
import { bytesToIp, parseCidr } from '../../src/util/ip.js';

/** The general path, as diffState computed it before the numeric keys: text keys from parseCidr. */
function reference(present: Address[], want: DesiredState, nameOf: (i: number | undefined) => string | undefined, scope?: OwnerScope): Op[] {
  const out: Op[] = [];
  const key = (dev: string, text: string, prefix: number) => `${dev}|${text}/${prefix}`;
  const have = new Map<string, Address>();
  for (const a of present) {
    const dev = nameOf(a.index);
    if (dev) have.set(key(dev, a.address, a.prefix), a);
  }
  const wanted = new Set<string>();
  for (const a of want.addresses ?? []) {
    const c = parseCidr('address', a.address);
    const dev = typeof a.dev === 'number' ? (nameOf(a.dev) ?? String(a.dev)) : a.dev;
    const k = key(dev, bytesToIp(c.bytes), c.prefix);
    wanted.add(k);
    if (!have.has(k)) out.push({ op: 'address.add', spec: { ...a, proto: scope?.proto ?? EUCANET_PROTO } });
  }
  for (const [k, a] of have) {
    if (!mayTouch(whoseProto(a.proto, scope), scope) || wanted.has(k)) continue;
    const spec: AddressSpec = { dev: nameOf(a.index) as string, address: `${a.address}/${a.prefix}` };
    out.unshift({ op: 'address.delete', spec });
  }
  return out;
}

/** A small deterministic generator (xorshift), so that a failure can be replayed. */
function rng(seed: number) {
  let x = seed >>> 0 || 1;
  return (n: number) => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x % n;
  };
}

const names = ['eth0', 'eucabr10', 'eucabr11'];
const nameOf = (i: number | undefined) => (i === undefined ? undefined : names[i - 2]);

/** Desired texts in the forms people write: with and without a prefix, IPv6 in upper case and uncompressed, IPv4-mapped. */
function desiredText(r: (n: number) => number, v4: number, prefix: number): string {
  const dotted = `10.${v4 >> 16}.${(v4 >> 8) & 255}.${v4 & 255}`;
  switch (r(5)) {
    case 0:
      return prefix === 32 ? dotted : `${dotted}/${prefix}`;
    case 1:
      return `2001:DB8:0:0::${v4.toString(16)}/${prefix + 96}`;
    case 2:
      return `::ffff:${dotted}/128`;
    default:
      return `${dotted}/${prefix}`;
  }
}

/** The kernel's side of the same texts: what decodeAddress makes (canonical text, prefix). */
function presentOf(index: number, text: string, proto: number | undefined): Address {
  const c = parseCidr('address', text);
  return { index, family: c.family, address: bytesToIp(c.bytes), prefix: c.prefix, scope: 0, flags: 0, ...(proto !== undefined ? { proto } : {}) };
}

describe('address diff: numeric keys against text keys', () => {
  it('desiredKey equals the key of the canonical text for every form, and refuses what parseCidr refuses', () => {
    const good = ['10.0.0.1', '10.0.0.1/32', '10.0.0.1/032', '10.0.0.1/8', '0.0.0.0/0', '2001:db8::1/64', '2001:DB8:0::1/64', '::ffff:1.2.3.4', 'fe80::1'];
    for (const t of good) {
      const c = parseCidr('address', t);
      expect(desiredKey(t), t).toEqual(presentKey(bytesToIp(c.bytes), c.prefix));
    }
    expect(desiredKey('10.0.0.1/32')).not.toEqual(desiredKey('10.0.0.1/31'));
    expect(desiredKey('::ffff:10.0.0.1/128')).not.toEqual(desiredKey('10.0.0.1/32'));
    for (const bad of ['10.0.0.256/32', '10.0.0.1/33', '10.0.0.1/', '10.0.0.1/1234', '010.0.0.1/32', '10.0.0.1/-1', 'x', '']) {
      expect(() => desiredKey(bad), bad).toThrow(ValidationError);
      expect(() => parseCidr('address', bad), bad).toThrow(ValidationError);
    }
  });

  it('the same ops as the text-keyed path on 300 generated states', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const r = rng(seed);
      const present: Address[] = [];
      const addresses: NonNullable<DesiredState['addresses']> = [];
      const scope: OwnerScope | undefined = r(3) === 0 ? { tag: 'cc', proto: 241, tables: [] } : undefined;
      for (let i = 0, n = r(30); i < n; i++) {
        const text = desiredText(r, r(64), 24 + r(9));
        const index = 2 + r(4); // 5: a link with no name (gone)
        const roll = r(4);
        const a = presentOf(index, text, [undefined, EUCANET_PROTO, 241, 2][r(4)]);
        // The kernel holds an address (and prefix) once per link.
        const dup = present.some((p) => p.index === a.index && p.address === a.address && p.prefix === a.prefix);
        if (roll !== 0 && !dup) present.push(a);
        if (roll !== 1) addresses.push({ dev: r(4) === 0 ? index : (nameOf(index) ?? 'eth0'), address: text });
      }
      const want: DesiredState = { addresses };
      const out = { changes: [] as Op[] };
      diffAddresses(present, want, nameOf, out, scope, prepareAddresses(want));
      expect(out.changes, `seed ${seed}`).toEqual(reference(present, want, nameOf, scope));
    }
  });
});
