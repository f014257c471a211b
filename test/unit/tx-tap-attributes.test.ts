// tapAttributes (src/tx/inverse.ts): what of a tap spec is set once the tap
// exists (its link attributes), without the tap's own options.
import { describe, expect, it } from 'vitest';
import { tapAttributes } from '../../src/tx/inverse.js';

describe('tapAttributes', () => {
  it('keeps the link attributes given and leaves out the tap options and undefined values', () => {
    expect(
      tapAttributes({
        tun: false,
        vnetHdr: true,
        multiQueue: false,
        owner: 0,
        ownerGroup: 0,
        master: 'eucabr10',
        up: true,
        mtu: 1450,
        alias: undefined,
        group: 7,
      }),
    ).toEqual({ master: 'eucabr10', up: true, mtu: 1450, group: 7 });
    expect(Object.keys(tapAttributes({ master: null, address: 'd0:0d:0a:00:00:02' }) ?? {})).toEqual(['master', 'address']);
  });

  it('is undefined for a tap with only its own options', () => {
    expect(tapAttributes({})).toBeUndefined();
    expect(tapAttributes({ vnetHdr: true, owner: 1000, up: undefined })).toBeUndefined();
  });
});
