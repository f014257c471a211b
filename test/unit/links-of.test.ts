// linksOf (src/tx/read.ts): a link dump's messages decoded and in ifindex
// order, whether the kernel sent them in that order (it does: no sort is run)
// or not.
import { describe, expect, it } from 'vitest';
import * as A from '../../src/rtnl/attrs.js';
import { RTM_NEWLINK } from '../../src/rtnl/constants.js';
import { linksOf } from '../../src/tx/read.js';
import { message } from '../helpers/decode.js';

/** An RTM_NEWLINK for ifindex `index` named `name`. */
const link = (index: number, name: string) =>
  message((w) => {
    w.beginMessage(RTM_NEWLINK, 0, 1);
    w.rawZero(4);
    w.rawI32(index);
    w.rawZero(8);
    w.str(A.IFLA_IFNAME, name);
    w.endMessage();
  });

describe('linksOf', () => {
  it('keeps a dump in ifindex order as it is', () => {
    const links = linksOf([link(1, 'lo'), link(2, 'eth0'), link(7, 'vnet0')]);
    expect(links.map((l) => [l.index, l.name])).toEqual([
      [1, 'lo'],
      [2, 'eth0'],
      [7, 'vnet0'],
    ]);
  });

  it('sorts messages that are out of order by ifindex', () => {
    const links = linksOf([link(7, 'vnet0'), link(1, 'lo'), link(9, 'vnet1'), link(2, 'eth0')]);
    expect(links.map((l) => l.index)).toEqual([1, 2, 7, 9]);
    expect(links.map((l) => l.name)).toEqual(['lo', 'eth0', 'vnet0', 'vnet1']);
  });

  it('an empty dump is no links', () => {
    expect(linksOf([])).toEqual([]);
  });
});
