// Ownership marks with an owner (tx/owner.ts), and the diff they scope.
import { describe, expect, it } from 'vitest';
import type { Link } from '../../src/rtnl/link.js';
import { diffState } from '../../src/tx/diff.js';
import {
  aliasDetail,
  aliasOwner,
  isOwnedAlias,
  isOwnedTable,
  ROLE_PROTO,
  ROLE_TABLES,
  roleOfProto,
  roleOfTable,
  roleScope,
  scopedAlias,
  whoseLink,
  whoseProto,
  type OwnerScope,
} from '../../src/tx/owner.js';

const cc: OwnerScope = { tag: 'cc', proto: 241, tables: ['eucanet'] };
const link = (index: number, name: string, alias?: string, extra: Partial<Link> = {}): Link =>
  ({ index, name, kind: 'bridge', up: true, mtu: 1500, group: 0, txqlen: 1000, ...(alias ? { alias } : {}), ...extra }) as Link;

describe('owner marks', () => {
  it('parses owner and detail, old and new', () => {
    expect(aliasOwner('eucanet/cc:admin/default')).toBe('cc');
    expect(aliasDetail('eucanet/cc:admin/default')).toBe('admin/default');
    expect(aliasOwner('eucanet/nc')).toBe('nc');
    expect(aliasOwner('eucanet:port i-1')).toBe('');
    expect(aliasOwner('eucanet')).toBe('');
    expect(aliasOwner('eucanetx')).toBeUndefined();
    expect(aliasOwner('my bridge')).toBeUndefined();
    expect(scopedAlias('nc', 'eucanet:port i-1')).toBe('eucanet/nc:port i-1');
    expect(scopedAlias('cc')).toBe('eucanet/cc');
    expect(isOwnedAlias('eucanet/cc:x')).toBe(true);
  });

  it('whose: mine, another owner, an older eucanet, or not eucanet', () => {
    expect(whoseLink({ alias: 'eucanet/cc:x' }, cc)).toBe('mine');
    expect(whoseLink({ alias: 'eucanet/nc:x' }, cc)).toBe('other');
    expect(whoseLink({ alias: 'eucanet:x' }, cc)).toBe('unscoped');
    expect(whoseLink({ alias: 'x' }, cc)).toBe('none');
    expect([241, 242, 240, 3].map((p) => whoseProto(p, cc))).toEqual(['mine', 'other', 'unscoped', 'none']);
  });

  it("a scoped diff removes only its owner's objects; force, or no scope, removes every eucanet object", () => {
    const cur = {
      links: [link(2, 'eucabr10', 'eucanet/nc:admin/default'), link(3, 'eucabr11', 'eucanet/cc:admin/web'), link(4, 'eucabr12', 'eucanet:old'), link(5, 'br0')],
      addresses: [],
      routes: [],
      sysctls: {},
    };
    const deleted = (scope?: OwnerScope) =>
      diffState(cur, {}, scope)
        .changes.filter((o) => o.op === 'link.delete')
        .map((o) => (o as { ref: string }).ref)
        .sort();
    expect(deleted(cc)).toEqual(['eucabr11']);
    expect(deleted({ ...cc, force: true })).toEqual(['eucabr10', 'eucabr11', 'eucabr12']);
    expect(deleted(undefined)).toEqual(['eucabr10', 'eucabr11', 'eucabr12']);
  });

  it('one set of rules: the tables the diff manages are the ones the roles own and the message names', () => {
    for (const name of ['eucanet', 'eucanet-nc', 'eucanet-x']) expect(isOwnedTable({ name })).toBe(true);
    // The refusal says "eucanet" or "eucanet-*": anything else is not eucanet's, and not removed either.
    for (const name of ['eucanet_x', 'eucanetx', 'filter', 'Eucanet']) expect(isOwnedTable({ name })).toBe(false);
    for (const role of ['cc', 'nc'] as const) {
      for (const t of ROLE_TABLES[role]) {
        expect(isOwnedTable({ name: t })).toBe(true);
        expect(roleOfTable(t)).toBe(role);
      }
      expect(roleOfProto(ROLE_PROTO[role])).toBe(role);
      const scope = roleScope(role);
      expect(whoseProto(ROLE_PROTO[role], scope)).toBe('mine');
      expect(whoseLink({ alias: scopedAlias(role, 'x') }, scope)).toBe('mine');
      expect(isOwnedAlias(scopedAlias(role, 'x'))).toBe(true);
    }
  });
});
