// The agent's rehearsal versions (src/agent/rehearse.ts): made-up next
// versions of a state, one per kind of change, each the state with one object
// changed or added and every other object the same (===).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { rehearsalsOf } from '../../src/agent/rehearse.js';
import { allocate } from '../../src/managed/allocate.js';
import { validateState } from '../../src/managed/validate.js';
import { repoRoot } from '../helpers/cli.js';

const seed = JSON.parse(readFileSync(join(repoRoot, 'examples/seed.json'), 'utf8')) as Record<string, unknown>;
const s = allocate(seed);

describe('rehearsalsOf', () => {
  it('makes a rule, an instance and a public address variant, each a valid state that changes one object', () => {
    const v = rehearsalsOf(s, { role: 'cc' });
    expect(v.map((x) => x.kind)).toEqual(['authorize', 'run-instance', 'associate-address']);
    for (const x of v) expect(() => validateState(structuredClone(x.state)), x.kind).not.toThrow();
    const [rule, inst, pub] = v.map((x) => x.state);
    const last = s.instances.at(-1)!;
    // One group changed: the last instance's, one rule more.
    const changed = rule.groups.filter((g, i) => g !== s.groups[i]);
    expect(changed).toHaveLength(1);
    expect(`${changed[0].owner}/${changed[0].name}`).toBe(last.group);
    expect(changed[0].rules.length).toBe(s.groups.find((g) => g.name === changed[0].name)!.rules.length + 1);
    expect(rule.instances).toBe(s.instances);
    // One instance added, like the last one, on a free address, its MAC made from it.
    expect(inst.instances.slice(0, -1).every((i, k) => i === s.instances[k])).toBe(true);
    const added = inst.instances.at(-1)!;
    expect(added).toMatchObject({ group: last.group, node: last.node });
    expect(s.instances.some((i) => i.privateIp === added.privateIp || i.mac === added.mac || i.id === added.id)).toBe(false);
    expect(
      added.mac.endsWith(
        added.privateIp
          .split('.')
          .map((n) => Number(n).toString(16).padStart(2, '0'))
          .join(':'),
      ),
    ).toBe(true);
    expect(inst.groups).toBe(s.groups);
    // One instance with no public address given a free one of the pool.
    const moved = pub.instances.filter((i, k) => i !== s.instances[k]);
    expect(moved).toHaveLength(1);
    const was = s.instances.find((i) => i.id === moved[0].id)!;
    expect(was.publicIp).toBeUndefined();
    expect(s.instances.some((i) => i.publicIp === moved[0].publicIp)).toBe(false);
    expect(moved[0].publicIp).toMatch(/^192\.168\.32\./);
  });

  it('for a node: only its own instances; none for a node with no instance', () => {
    const v = rehearsalsOf(s, { role: 'nc', node: 'nc2' });
    const added = v.find((x) => x.kind === 'run-instance')!.state.instances.at(-1)!;
    expect(added.node).toBe('nc2');
    const none = allocate({ ...seed, instances: (seed.instances as Array<{ node: string }>).filter((i) => i.node !== 'nc2') });
    expect(rehearsalsOf(none, { role: 'nc', node: 'nc2' })).toEqual([]);
  });
});
