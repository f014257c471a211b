// Tap owner/ownerGroup are 32-bit ids and (uid_t)-1 is none, but TUNSETOWNER
// takes an unsigned long the kernel cuts to 32 bits: 2^32+1000 used to become
// uid 1000. The library refuses out-of-range ids (ValidationError naming the
// field and value, before anything is made); the addon refuses them too, as
// the last line of defence, when called directly. `ip -j -d link` is the
// oracle for what exists and whom it belongs to. Needs root.
import { describe, expect, it } from 'vitest';
import { addon } from '../../src/native.js';
import { ValidationError } from '../../src/errors.js';
import { ipLinks, isRoot, withHandle } from '../helpers/netns.js';
import { rejection } from '../helpers/rejection.js';

if (!isRoot) console.warn('test/integration/native-tap-options.test.ts: skipped, needs root (network namespaces)');

const names = (ns: string) => ipLinks(ns).map((l) => l.ifname as string);
const BAD_IDS: unknown[] = [2 ** 32 + 1000, 2 ** 32 - 1, -1, 1.5, Number.NaN, Infinity, '1000'];

describe.skipIf(!isRoot)('tap owner and group ranges (root)', () => {
  it('the library refuses out-of-range or non-integer ids, naming the field and value, and makes nothing', async () => {
    await withHandle(async (h, ns) => {
      for (const field of ['owner', 'ownerGroup'] as const) {
        for (const v of BAD_IDS) {
          const err = await rejection(h.taps.create('tap0', { [field]: v }));
          expect(err, `${field} ${String(v)}`).toBeInstanceOf(ValidationError);
          expect(err.field).toBe(field);
          expect(err.message).toContain(`invalid ${field} ${typeof v === 'number' && Number.isFinite(v) ? String(v) : ''}`);
          expect(err.message).toContain('0-4294967294');

          const tx = h.transaction().addTap('tap0', { [field]: v });
          const txErr = await rejection(tx.commit());
          expect(txErr, `transaction ${field} ${String(v)}`).toBeInstanceOf(ValidationError);
          expect(txErr.field).toBe(field);
        }
      }
      const err = await rejection(h.taps.create('tap0', { tun: 'yes' } as never));
      expect(err).toBeInstanceOf(ValidationError);
      expect(err.field).toBe('tun');
      expect(names(ns)).toEqual(['lo']);
    });
  });

  it('the addon itself refuses them (sync and async), makes nothing, and takes the extremes 0 and 4294967294', async () => {
    await withHandle(async (h, ns) => {
      const path = `/run/netns/${ns}`;
      for (const field of ['owner', 'ownerGroup']) {
        for (const v of BAD_IDS) {
          for (const sync of [true, false]) {
            let thrown: any;
            try {
              await addon.tapCreate(path, ['tap0'], { [field]: v }, sync);
            } catch (e) {
              thrown = e;
            }
            expect(thrown, `${field} ${String(v)} sync=${sync}`).toBeDefined();
            expect(thrown.message).toContain(`tap ${field} must be`);
            expect(names(ns), `${field} ${String(v)}`).toEqual(['lo']);
          }
        }
      }
      await addon.tapCreate(path, ['tap0'], { owner: 4294967294, ownerGroup: 4294967294 }, false);
      await addon.tapCreate(path, ['tap1'], { owner: 0, ownerGroup: 0 }, true);
      const byName = new Map(ipLinks(ns).map((l) => [l.ifname, l.linkinfo?.info_data]));
      expect(String(byName.get('tap0').user)).toBe('4294967294');
      expect(String(byName.get('tap0').group)).toBe('4294967294');
      // ip names ids it knows: 0 is root.
      expect(byName.get('tap1')).toMatchObject({ user: 'root', group: 'root' });
      await h.taps.delete(['tap0', 'tap1']);
    });
  });

  it('the addon refuses malformed arguments with a TypeError or RangeError instead of misreading them', async () => {
    await withHandle(async (_h, ns) => {
      const path = `/run/netns/${ns}`;
      const bad: Array<[unknown[], RegExp]> = [
        [[path, 'tap0', {}, true], /tap names must be an array/],
        [[path, ['tap0', 7], {}, true], /tap names must be an array of strings/],
        [[path, ['tap\u00000'], {}, true], /without NUL/],
        [[path, ['tap0'], null, true], /tap options must be an object/],
        [[Number.NaN, ['tap0'], {}, true], /netns fd must be an integer/],
        [[3.5, ['tap0'], {}, true], /netns fd must be an integer/],
        [[`${path}\u0000x`, ['tap0'], {}, true], /without NUL/],
      ];
      for (const [args, re] of bad) {
        expect(() => (addon.tapCreate as (...a: unknown[]) => unknown)(...args), JSON.stringify(args)).toThrow(re);
      }
      expect(names(ns)).toEqual(['lo']);
    });
  });
});
