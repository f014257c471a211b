// The cloud's operations as pure functions (src/managed/ops/): each returns the
// new document with its allocations and what changed, leaves its input alone,
// and refuses bad input with a ValidationError naming the field and the value.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.js';
import * as ops from '../../src/managed/ops/index.js';
import type { State } from '../../src/managed/types.js';
import { parseState } from '../../src/managed/validate.js';

const seed = (): State => parseState(readFileSync(new URL('../../examples/seed.json', import.meta.url), 'utf8'));

function refused(f: () => unknown): ValidationError {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationError);
    return err as ValidationError;
  }
  throw new Error('expected a ValidationError');
}

describe('run-instance and terminate-instance', () => {
  it('allocates the lowest free port, private address, MAC and (auto) public address, and says so', () => {
    const before = seed();
    const copy = structuredClone(before);
    const r = ops.runInstance(before, { id: 'i-9', group: 'admin/default', node: 'nc2', publicIp: true });
    expect(before).toEqual(copy); // the input is left alone
    // admin/default (10.1.2.0/27) holds i-1, i-2, i-5, i-6 at .2-.5; nc2's vnet0-3 are taken; i-1 and i-2 hold .200 and .201.
    expect(r.changes).toEqual([
      {
        kind: 'instance-added',
        id: 'i-9',
        group: 'admin/default',
        node: 'nc2',
        port: 'vnet4',
        privateIp: '10.1.2.6',
        mac: 'd0:0d:0a:01:02:06',
        publicIp: '192.168.32.202',
      },
    ]);
    expect(r.state.instances?.at(-1)).toEqual({
      id: 'i-9',
      group: 'admin/default',
      node: 'nc2',
      port: 'vnet4',
      privateIp: '10.1.2.6',
      mac: 'd0:0d:0a:01:02:06',
      publicIp: '192.168.32.202',
    });
    // The document keeps what it said (vlanRange, $schema) and gets the allocations of the others too.
    expect(r.state.$schema).toBe(before.$schema);
    expect(r.state.instances?.[1].publicIp).toBe('192.168.32.201');
    const again = ops.runInstance(r.state, { id: 'i-10', group: 'admin/default', node: 'nc2' });
    expect(again.changes[0]).toMatchObject({ privateIp: '10.1.2.7', port: 'vnet5' });
    expect(again.changes[0]).not.toHaveProperty('publicIp');
  });

  it('a given public address must be in the pool and free', () => {
    const s = seed();
    expect(ops.runInstance(s, { id: 'i-9', group: 'admin/web', node: 'nc1', publicIp: '192.168.32.240' }).changes[0]).toMatchObject({
      publicIp: '192.168.32.240',
    });
    const out = refused(() => ops.runInstance(s, { id: 'i-9', group: 'admin/web', node: 'nc1', publicIp: '10.9.9.9' }));
    expect([out.field, out.value]).toEqual(['publicIp', '10.9.9.9']);
    expect(out.message).toMatch(/not in the public pool/);
    const taken = refused(() => ops.runInstance(s, { id: 'i-9', group: 'admin/web', node: 'nc1', publicIp: '192.168.32.200' }));
    expect(taken.message).toBe('invalid publicIp "192.168.32.200": is taken: held by instance i-1');
    const reserved = ops.allocateAddress(s).state;
    const r2 = refused(() => ops.runInstance(reserved, { id: 'i-9', group: 'admin/web', node: 'nc1', publicIp: '192.168.32.202' }));
    expect(r2.message).toMatch(/held by allocate-address/);
  });

  it('refuses an unknown group or node, a taken id or port, naming the field', () => {
    const s = seed();
    const cases: Array<[Parameters<typeof ops.runInstance>[1], string, unknown]> = [
      [{ id: 'i-9', group: 'admin/nope', node: 'nc1' }, 'group', 'admin/nope'],
      [{ id: 'i-9', group: 'nogroup', node: 'nc1' }, 'group', 'nogroup'],
      [{ id: 'i-9', group: 'admin/web', node: 'nc7' }, 'node', 'nc7'],
      [{ id: 'i-3', group: 'admin/web', node: 'nc1' }, 'id', 'i-3'],
      [{ id: 'i-9', group: 'admin/web', node: 'nc1', port: 'vnet1' }, 'port', 'vnet1'],
      [{ id: 'i-9', group: 'admin/web', node: 'nc1', port: 'a/b' }, 'port', 'a/b'],
    ];
    for (const [inst, field, value] of cases) {
      const e = refused(() => ops.runInstance(s, inst));
      expect([e.field, e.value], JSON.stringify(inst)).toEqual([field, value]);
    }
  });

  it('terminate-instance frees both addresses for the next instance', () => {
    const s = seed();
    const t = ops.terminateInstance(s, 'i-1');
    expect(t.changes).toEqual([
      { kind: 'instance-removed', id: 'i-1', group: 'admin/default', node: 'nc1', privateIp: '10.1.2.2', publicIp: '192.168.32.200' },
    ]);
    expect(t.state.instances?.map((i) => i.id)).toEqual(['i-2', 'i-3', 'i-4', 'i-5', 'i-6', 'i-7', 'i-8']);
    const r = ops.runInstance(t.state, { id: 'i-9', group: 'admin/default', node: 'nc1', publicIp: true });
    expect(r.changes[0]).toMatchObject({ privateIp: '10.1.2.2', publicIp: '192.168.32.200' });
    const e = refused(() => ops.terminateInstance(s, 'i-99'));
    expect([e.field, e.value, e.reason]).toEqual(['instance', 'i-99', 'no such instance']);
  });
});

describe('groups and rules', () => {
  it('create-group allocates a VLAN and block; a second one of that name is refused', () => {
    const r = ops.createGroup(seed(), 'bob/db');
    expect(r.changes).toEqual([{ kind: 'group-added', group: 'bob/db', vlan: 12, subnet: '10.1.1.64/27' }]);
    expect(r.state.groups?.at(-1)).toEqual({ owner: 'bob', name: 'db', vlan: 12, subnet: '10.1.1.64/27', rules: [] });
    expect(refused(() => ops.createGroup(r.state, 'bob/db')).message).toBe('invalid group "bob/db": already exists');
    expect(refused(() => ops.createGroup(r.state, 'bobdb')).field).toBe('group');
  });

  it("delete-group is refused while instances or other groups' rules use it", () => {
    const s = seed();
    expect(refused(() => ops.deleteGroup(s, 'admin/web')).message).toBe('invalid group "admin/web": still has instances: i-3, i-4, i-7, i-8');
    const g = ops.createGroup(s, 'bob/db').state;
    const used = ops.authorize(g, 'admin/web', { protocol: 'tcp', from: 5432, sourceGroup: 'bob/db' }).state;
    expect(refused(() => ops.deleteGroup(used, 'bob/db')).message).toMatch(/is the source group of rules in admin\/web/);
    const d = ops.deleteGroup(g, 'bob/db');
    expect(d.changes).toEqual([{ kind: 'group-removed', group: 'bob/db', vlan: 12, subnet: '10.1.1.64/27' }]);
    expect(d.state.groups?.map((x) => x.name)).toEqual(['default', 'web']);
    expect(refused(() => ops.deleteGroup(s, 'x/y')).reason).toMatch(/^no such group \(known: admin\/default, admin\/web\)$/);
  });

  it('authorize adds a rule once; the same packets twice is refused; revoke takes it back to the same document', () => {
    const s = ops.createGroup(seed(), 'bob/db').state;
    const rule = { protocol: 'icmp' as const, icmpType: 8, cidr: '10.0.0.0/8' };
    const a = ops.authorize(s, 'bob/db', rule);
    expect(a.changes).toEqual([{ kind: 'rule-added', group: 'bob/db', rule }]);
    expect(ops.describeChange(a.changes[0])).toBe('group bob/db: rule added: icmp type 8 from 10.0.0.0/8');
    const dup = refused(() => ops.authorize(a.state, 'bob/db', { ...rule, icmpCode: -1 }));
    expect(dup.field).toBe('rule');
    expect(dup.reason).toMatch(/already has this rule/);
    expect(refused(() => ops.authorize(a.state, 'bob/nope', rule)).field).toBe('group');
    // A bad rule is refused by the state's own checks, naming the field in the document.
    expect(refused(() => ops.authorize(a.state, 'bob/db', { protocol: 'tcp', from: 70000, cidr: '0.0.0.0/0' })).field).toBe('groups[2].rules[1].from');
    const r = ops.revoke(a.state, 'bob/db', rule);
    expect(r.changes).toEqual([{ kind: 'rule-removed', group: 'bob/db', rule }]);
    expect(r.state).toEqual(s);
    const e = refused(() => ops.revoke(r.state, 'bob/db', rule));
    expect([e.field, e.reason]).toEqual(['rule', 'group bob/db has no such rule']);
  });
});

describe('public addresses', () => {
  it('allocate hands out distinct addresses; associate, disassociate and release move one through its life', () => {
    let s = seed();
    const got: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = ops.allocateAddress(s);
      const c = r.changes[0];
      if (c.kind !== 'address-allocated') throw new Error(c.kind);
      got.push(c.ip);
      s = r.state;
    }
    // .200 is i-1's, .201 goes to i-2 (publicIp true).
    expect(got).toEqual(['192.168.32.202', '192.168.32.203', '192.168.32.204', '192.168.32.205', '192.168.32.206']);
    const a = ops.associateAddress(s, '192.168.32.204', 'i-3');
    expect(a.changes).toEqual([{ kind: 'address-associated', ip: '192.168.32.204', instance: 'i-3' }]);
    expect(a.state.reservedIps).toEqual(['192.168.32.202', '192.168.32.203', '192.168.32.205', '192.168.32.206']);
    expect(a.state.instances?.find((i) => i.id === 'i-3')?.publicIp).toBe('192.168.32.204');
    expect(refused(() => ops.releaseAddress(a.state, '192.168.32.204')).reason).toBe('is still associated with instance i-3 (disassociate-address first)');
    const d = ops.disassociateAddress(a.state, '192.168.32.204');
    expect(d.changes).toEqual([{ kind: 'address-disassociated', ip: '192.168.32.204', instance: 'i-3' }]);
    const rel = ops.releaseAddress(d.state, '192.168.32.204');
    expect(rel.changes).toEqual([{ kind: 'address-released', ip: '192.168.32.204' }]);
    expect(rel.state.reservedIps).toEqual(['192.168.32.202', '192.168.32.203', '192.168.32.205', '192.168.32.206']);
  });

  it('refuses addresses outside the pool, not allocated, or already associated, and an instance that has one', () => {
    const s = ops.allocateAddress(seed()).state; // .202 reserved
    const cases: Array<[() => unknown, string, string]> = [
      [() => ops.associateAddress(s, '10.0.0.1', 'i-3'), 'ip', 'is not in the public pool (publicIps: 192.168.32.200-192.168.32.250)'],
      [() => ops.associateAddress(s, '192.168.32.230', 'i-3'), 'ip', 'is not allocated (allocate-address first)'],
      [() => ops.associateAddress(s, '192.168.32.200', 'i-3'), 'ip', 'is associated with instance i-1'],
      [() => ops.associateAddress(s, '192.168.32.202', 'i-1'), 'instance', 'already has public address 192.168.32.200'],
      [() => ops.associateAddress(s, '192.168.32.202', 'i-77'), 'instance', 'no such instance'],
      [() => ops.associateAddress(s, 'bogus', 'i-3'), 'ip', ''],
      [() => ops.disassociateAddress(s, '192.168.32.202'), 'ip', 'is not associated with any instance'],
      [() => ops.releaseAddress(s, '192.168.32.230'), 'ip', 'is not allocated'],
    ];
    for (const [f, field, reason] of cases) {
      const e = refused(f);
      expect(e.field).toBe(field);
      if (reason) expect(e.reason).toBe(reason);
    }
  });

  it('the pool running out is named', () => {
    let s: State = { ...seed(), publicIps: ['192.168.32.200-192.168.32.202'] };
    s = ops.allocateAddress(s).state;
    const e = refused(() => ops.allocateAddress(s));
    expect(e.field).toBe('publicIps');
    expect(e.reason).toMatch(/exhausted/);
  });
});

describe('changes for people', () => {
  it('one line per kind of change', () => {
    const lines = (
      [
        {
          kind: 'instance-added',
          id: 'i-9',
          group: 'a/b',
          node: 'nc1',
          port: 'vnet4',
          privateIp: '10.1.2.6',
          mac: 'd0:0d:0a:01:02:06',
          publicIp: '192.168.32.202',
        },
        { kind: 'instance-removed', id: 'i-9', group: 'a/b', node: 'nc1', privateIp: '10.1.2.6' },
        { kind: 'group-added', group: 'a/b', vlan: 12, subnet: '10.1.1.64/27' },
        { kind: 'group-removed', group: 'a/b', vlan: 12, subnet: '10.1.1.64/27' },
        { kind: 'rule-added', group: 'a/b', rule: { protocol: 'tcp', from: 22, to: 23, cidr: '0.0.0.0/0' } },
        { kind: 'rule-removed', group: 'a/b', rule: { protocol: 'icmp', icmpType: 3, icmpCode: 4, sourceGroup: 'a/c' } },
        { kind: 'address-allocated', ip: '192.168.32.202' },
        { kind: 'address-associated', ip: '192.168.32.202', instance: 'i-9' },
        { kind: 'address-disassociated', ip: '192.168.32.202', instance: 'i-9' },
        { kind: 'address-released', ip: '192.168.32.202' },
      ] satisfies ops.Change[]
    ).map(ops.describeChange);
    expect(lines).toEqual([
      'instance i-9 added: group a/b, node nc1, port vnet4, privateIp 10.1.2.6, mac d0:0d:0a:01:02:06, publicIp 192.168.32.202',
      'instance i-9 removed: privateIp 10.1.2.6 back in its pool',
      'group a/b added: vlan 12, subnet 10.1.1.64/27',
      'group a/b removed: vlan 12 and subnet 10.1.1.64/27 free',
      'group a/b: rule added: tcp 22-23 from 0.0.0.0/0',
      'group a/b: rule removed: icmp type 3 code 4 from a/c',
      'address 192.168.32.202 allocated',
      'address 192.168.32.202 associated with instance i-9',
      'address 192.168.32.202 disassociated from instance i-9 (still allocated)',
      'address 192.168.32.202 released to the pool',
    ]);
  });
});
