// An address or FDB op is validated when it is added to a transaction, and its
// request (and its undo) validate the same spec again at commit: the address
// and MAC text is parsed once per spec for as long as it holds the same
// string. The parsers are wrapped (not replaced) to count their calls.
import { describe, expect, it, vi } from 'vitest';
import { NlWriter } from '../../src/netlink/writer.js';
import { AddressAddRequest, AddressDeleteRequest, type AddressSpec } from '../../src/rtnl/address.js';
import { FdbReplaceRequest, type FdbSpec } from '../../src/rtnl/fdb.js';
import { validateOp } from '../../src/tx/ops.js';
import * as ip from '../../src/util/ip.js';

vi.mock('../../src/util/ip.js', async (importOriginal) => {
  const m = await importOriginal<typeof import('../../src/util/ip.js')>();
  return { ...m, parseCidr: vi.fn(m.parseCidr), parseMac: vi.fn(m.parseMac), parseIp: vi.fn(m.parseIp) };
});

const resolver = { index: () => 7, name: () => 'eth0' } as never;
const bytesOf = (req: { encode(w: NlWriter, seq: number): void }) => {
  const w = new NlWriter();
  req.encode(w, 1);
  return Buffer.from(w.bytes()).toString('hex');
};

describe('an op spec parsed once from validation to commit', () => {
  it('address: validateOp then its request and its undo parse the text once, and encode as a fresh spec does', () => {
    const spec: AddressSpec = { dev: 'eth0', address: '172.16.0.5/32', proto: 240 };
    vi.mocked(ip.parseCidr).mockClear();
    validateOp({ op: 'address.add', spec });
    const add = new AddressAddRequest(spec, resolver);
    const undo = new AddressDeleteRequest(spec, resolver);
    expect(vi.mocked(ip.parseCidr)).toHaveBeenCalledTimes(1);
    expect(bytesOf(add)).toBe(bytesOf(new AddressAddRequest({ ...spec }, resolver)));
    expect(bytesOf(undo)).toBe(bytesOf(new AddressDeleteRequest({ ...spec }, resolver)));
  });

  it('address: a spec whose text changed after validation is parsed again (and a bad one refused)', () => {
    const spec: AddressSpec = { dev: 'eth0', address: '172.16.0.5/32' };
    validateOp({ op: 'address.add', spec });
    spec.address = '172.16.0.9/32';
    expect(bytesOf(new AddressAddRequest(spec, resolver))).toBe(bytesOf(new AddressAddRequest({ dev: 'eth0', address: '172.16.0.9/32' }, resolver)));
    spec.address = '172.16.0.300/32';
    expect(() => new AddressAddRequest(spec, resolver)).toThrow(/address.*172\.16\.0\.300/);
  });

  it('fdb: validateOp then its request parse the MAC and the remote once; a changed MAC is parsed again', () => {
    const spec: FdbSpec = { dev: 'vx0', lladdr: 'd0:0d:0a:00:00:05', dst: '192.168.100.11', self: true };
    vi.mocked(ip.parseMac).mockClear();
    vi.mocked(ip.parseIp).mockClear();
    validateOp({ op: 'fdb.replace', spec });
    const req = new FdbReplaceRequest(spec, resolver);
    expect(vi.mocked(ip.parseMac)).toHaveBeenCalledTimes(1);
    expect(vi.mocked(ip.parseIp)).toHaveBeenCalledTimes(1);
    expect(bytesOf(req)).toBe(bytesOf(new FdbReplaceRequest({ ...spec }, resolver)));
    spec.lladdr = 'd0:0d:0a:00:00:06';
    expect(bytesOf(new FdbReplaceRequest(spec, resolver))).toBe(bytesOf(new FdbReplaceRequest({ ...spec }, resolver)));
    spec.lladdr = 'nope';
    expect(() => new FdbReplaceRequest(spec, resolver)).toThrow(/lladdr.*nope/);
  });
});
