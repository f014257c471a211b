// Elements of sets keyed by a concatenation (the NC's ifname . ether_addr and
// ifname . ipv4_addr sets, 1000 elements each at N=1000) take a fast path in
// parseElements: each component written straight into the key. The keys must
// be the bytes the general path lays out (each component padded to 4 bytes),
// and what the fast path does not take (bad input, types of no fixed length,
// maps, intervals) must still come out as before: parsed, or refused naming
// the element.
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.js';
import { parseElements } from '../../src/nft/build/elements.js';
import type { NftSet } from '../../src/nft/index.js';

const macs: NftSet = { family: 'bridge', table: 'eucanet-nc', name: 'macs', key: ['ifname', 'ether_addr'] };
const ips: NftSet = { family: 'bridge', table: 'eucanet-nc', name: 'ips', key: ['ifname', 'ipv4_addr'] };
const svc: NftSet = { family: 'inet', table: 'f', name: 'svc', key: ['ipv4_addr', 'inet_proto', 'inet_service'] };

/** The layout written out by hand: each component's bytes, zero-padded to a multiple of 4. */
function layout(...parts: number[][]): string {
  return parts.map((p) => Buffer.concat([Buffer.from(p), Buffer.alloc((4 - (p.length % 4)) % 4)]).toString('hex')).join('');
}
const name = (s: string) => [...Buffer.from(s), ...Array<number>(16 - s.length).fill(0)];

function refusal(set: NftSet, inputs: unknown[]): ValidationError {
  try {
    parseElements(set, inputs as never);
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationError);
    return err as ValidationError;
  }
  throw new Error('not refused');
}

describe('concatenated keys', () => {
  it('ifname . ether_addr and ifname . ipv4_addr: the bytes laid out component by component', () => {
    const [m] = parseElements(macs, [['vn12', 'D0:0d:0a:0:48:3']]);
    expect(m.key.toString('hex')).toBe(layout(name('vn12'), [0xd0, 0x0d, 0x0a, 0x00, 0x48, 0x03]));
    expect(m.key.length).toBe(24);
    const [i] = parseElements(ips, [['eth0.100', '10.0.72.251']]);
    expect(i.key.toString('hex')).toBe(layout(name('eth0.100'), [10, 0, 72, 251]));
    expect(Object.keys(m)).toEqual(['key']);
  });

  it('a 15-byte name fills the field, and keys are not shared between elements', () => {
    const els = parseElements(ips, [
      ['abcdefghijklmno', '1.2.3.4'],
      ['x', '1.2.3.4'],
    ]);
    expect(els[0].key.toString('hex')).toBe(layout(name('abcdefghijklmno'), [1, 2, 3, 4]));
    expect(els[1].key.toString('hex')).toBe(layout(name('x'), [1, 2, 3, 4]));
    expect(els[0].key.buffer === els[1].key.buffer && els[0].key.byteOffset === els[1].key.byteOffset).toBe(false);
  });

  it('three components, one of them a protocol name', () => {
    const [e] = parseElements(svc, [['192.168.1.1', 'tcp', 22]]);
    expect(e.key.toString('hex')).toBe(layout([192, 168, 1, 1], [6], [0, 22]));
  });

  it('bad input is refused naming the element and the component, as before', () => {
    expect(
      refusal(macs, [
        ['vn0', 'd0:0d:0a:00:40:02'],
        ['vn1', 'd0:0d:0a:00:40'],
      ]).message,
    ).toMatch(/element #1 key\[1\].*"d0:0d:0a:00:40"/);
    expect(refusal(ips, [['a-name-that-is-too-long', '10.0.0.1']]).message).toMatch(/element #0 key\[0\]/);
    expect(refusal(ips, [['vn0', '10.0.0.256']]).message).toMatch(/element #0 key\[1\].*10\.0\.0\.256/);
    expect(refusal(ips, [['vn0']]).message).toMatch(/expected 2 values of type ifname \. ipv4_addr/);
    expect(refusal(ips, ['vn0']).message).toMatch(/expected 2 values/);
  });

  it('a prefix in a concatenation of a set without intervals is refused, as before', () => {
    expect(refusal(ips, [['vn0', '10.0.0.0/8']]).message).toMatch(/element #0 key\[1\]/);
  });
});
