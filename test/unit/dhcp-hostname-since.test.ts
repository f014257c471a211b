// hostnameClashesSince (src/managed/roles/dhcp.ts): the instances new since a
// state without clashes compared with the others, the whole check run only
// for a clash found: always the errors of hostnameClashes(state).
import { describe, expect, it } from 'vitest';
import { hostnameClashes, hostnameClashesSince } from '../../src/managed/roles/dhcp.js';
import type { AllocatedInstance, AllocatedState } from '../../src/managed/types.js';
import { Rng } from '../fuzz/prng.js';

const inst = (id: string): AllocatedInstance => ({ id, group: 'admin/g', node: 'nc1', port: `p${id}`, privateIp: '10.0.0.2', mac: 'd0:0d:0a:00:00:02' });
const stateOf = (instances: AllocatedInstance[]) => ({ instances }) as unknown as AllocatedState;

describe('hostnameClashesSince', () => {
  it('an appended instance whose id differs from another only in case is refused as the whole check refuses it', () => {
    const before = Array.from({ length: 5000 }, (_, k) => inst(`i-${k}`));
    const ok = stateOf([...before, inst('i-new')]);
    expect(hostnameClashesSince(before, ok)).toEqual([]);
    const clash = stateOf([...before, inst('I-42')]);
    const errs = hostnameClashesSince(before, clash);
    expect(errs).toEqual(hostnameClashes(clash));
    expect(errs.map((e) => e.message)).toEqual([expect.stringMatching(/instances\[5000\]\.id "I-42".*instances\[42\]\.id "i-42"/)]);
    // The same object twice (a library caller's state) is two instances of one hostname.
    const twice = stateOf([...before, before[7]]);
    expect(hostnameClashesSince(before, twice)).toEqual(hostnameClashes(twice));
    expect(hostnameClashesSince(before, twice)).toHaveLength(1);
    // An id that is no hostname (a lease time, a keyword) clashes with nothing.
    expect(hostnameClashesSince(before, stateOf([...before, inst('60m'), inst('60M')]))).toEqual([]);
  });

  it('gives what hostnameClashes gives over random edits of a state without clashes', () => {
    const rng = new Rng(23);
    const ids = ['i-1', 'I-1', 'i-2', 'web', 'WEB', 'Web', '60m', 'ignore', 'a-b', 'A-B', 'x', 'X'];
    for (let run = 0; run < 300; run++) {
      // A state that has no clash (as every state an apply accepted).
      const seen = new Set<string>();
      const before: AllocatedInstance[] = [];
      for (let k = 0; k < rng.below(8); k++) {
        const id = `${rng.pick(ids)}${rng.below(3)}`;
        if (!seen.has(id.toLowerCase())) before.push(inst(id));
        seen.add(id.toLowerCase());
      }
      expect(hostnameClashes(stateOf(before))).toEqual([]);
      const now = [...before];
      for (let e = rng.below(3) + 1; e > 0; e--) {
        const at = rng.below(now.length + 1);
        if (rng.chance(0.3) && now.length) now.splice(at % now.length, 1);
        else now.splice(at, 0, inst(`${rng.pick(ids)}${rng.below(3)}`));
      }
      const s = stateOf(now);
      expect(hostnameClashesSince(before, s), JSON.stringify(now.map((i) => i.id))).toEqual(hostnameClashes(s));
    }
    expect(hostnameClashesSince(undefined, stateOf([inst('a'), inst('A')]))).toEqual(hostnameClashes(stateOf([inst('a'), inst('A')])));
  });
});
