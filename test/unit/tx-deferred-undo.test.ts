// The undo journal's deferred steps (issue 19, the cold path): an applied
// op's undo, when it is the op's own spec the other way round, is made only
// if a rollback reads it. A commit that succeeds makes none of them.
import { describe, expect, it } from 'vitest';
import { NlWriter } from '../../src/netlink/writer.js';
import { AddressAddRequest, AddressDeleteRequest } from '../../src/rtnl/address.js';
import { FdbAppendRequest } from '../../src/rtnl/fdb.js';
import type { Resolver } from '../../src/rtnl/kinds/index.js';
import type { Request } from '../../src/netlink/socket.js';
import { deferredStep } from '../../src/tx/journal.js';
import { neighInverse } from '../../src/tx/neigh-ops.js';

const r: Resolver = {
  index: (ref) => (ref === 'eth0' ? 2 : ref === 'vx10' ? 7 : Number(ref)),
  netnsFd: () => {
    throw new Error('no namespace moves here');
  },
};

/** A request's bytes (sequence number 1). */
function bytes(req: Request): string {
  const w = new NlWriter();
  req.encode(w, 1);
  return w.bytes().toString('hex');
}

describe('deferred undo steps', () => {
  it('make the undo and its description only when read, once', () => {
    const spec = { dev: 'eth0', address: '172.16.0.9/32' };
    const applied = new AddressAddRequest(spec, r);
    let made = 0;
    const step = deferredStep(
      () => {
        made++;
        return new AddressDeleteRequest(spec, r);
      },
      applied,
      4,
    );
    expect(made).toBe(0);
    expect(step.kind).toBe('request');
    expect(step.opIndex).toBe(4);
    if (step.kind !== 'request') throw new Error('a request step');
    expect(step.undoes).toBe('address add 172.16.0.9/32 dev eth0');
    expect(made).toBe(0);
    const req = step.req;
    expect(step.req).toBe(req);
    expect(made).toBe(1);
    expect(req.describe()).toBe('address delete 172.16.0.9/32 dev eth0');
    expect(bytes(req)).toBe(bytes(new AddressDeleteRequest(spec, r)));
  });

  it("an FDB append's undo is a function that makes the delete of the same entry", () => {
    const spec = { dev: 'vx10', lladdr: '00:00:00:00:00:00', dst: '192.168.100.11', self: true };
    const inv = neighInverse({ op: 'fdb.append', spec }, r, undefined);
    expect(typeof inv).toBe('function');
    const req = (inv as () => Request)();
    expect(req.describe()).toBe('fdb del 00:00:00:00:00:00 dev vx10 dst 192.168.100.11 self permanent');
    // The same bytes as the delete made at once, as it was before.
    const step = deferredStep(inv as () => Request, new FdbAppendRequest(spec, r), 0);
    if (step.kind !== 'request') throw new Error('a request step');
    expect(bytes(step.req)).toBe(bytes(req));
  });
});
