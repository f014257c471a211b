// The agent's rehearsal versions (src/agent/rehearse.ts): made-up next
// versions of a state, one per kind of change, each the state with one object
// changed or added and every other object the same (===); and how many times
// a warm-up judges them (src/agent/warm-up.ts judgementsFor).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { rehearsalsOf, unconcernedOf } from '../../src/agent/rehearse.js';
import { versionChange } from '../../src/agent/relevance.js';
import { JUDGEMENT_JITTER, JUDGEMENTS, judgementsFor } from '../../src/agent/warm-up.js';
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

describe('unconcernedOf', () => {
  it("for a node: a rule of a group it carries and another node's instance in one, each judged the same plan by relevance", () => {
    const role = { role: 'nc' as const, node: 'nc1' };
    const v = unconcernedOf(s, role);
    // Every group of the seed is on both nodes: no group nc1 does not carry.
    expect(v.map((x) => x.kind)).toEqual(['authorize', 'peer-run-instance']);
    for (const x of v) expect(() => validateState(structuredClone(x.state)), x.kind).not.toThrow();
    const [rule, peer] = v.map((x) => x.state);
    const mine = s.instances.filter((i) => i.node === 'nc1').at(-1)!;
    const changed = rule.groups.filter((g, i) => g !== s.groups[i]);
    expect(changed.map((g) => `${g.owner}/${g.name}`)).toEqual([mine.group]);
    expect(rule.instances).toBe(s.instances);
    // One instance added on nc2, in the group of nc2's last instance (nc1 carries it), on a free address.
    expect(peer.instances.slice(0, -1).every((i, k) => i === s.instances[k])).toBe(true);
    const added = peer.instances.at(-1)!;
    const like = s.instances.filter((i) => i.node === 'nc2').at(-1)!;
    expect(added).toMatchObject({ node: 'nc2', group: like.group });
    expect(s.instances.some((i) => i.privateIp === added.privateIp || i.mac === added.mac || i.id === added.id)).toBe(false);
    // What the warm-up judges is what the sync judges: the same plan for nc1, both ways (learned MACs, the default).
    for (const x of [rule, peer]) {
      expect(versionChange(s, x, role)).toEqual({ kind: 'same' });
      expect(versionChange(x, s, role)).toEqual({ kind: 'same' });
    }
    // Over VXLAN with static MAC entries, another node's instance is a peer sync (the warm-up judges that path too).
    const st = allocate({ ...seed, segmentation: 'vxlan', vxlanMacs: 'static' });
    const peerStatic = unconcernedOf(st, role).find((x) => x.kind === 'peer-run-instance')!.state;
    expect(versionChange(st, peerStatic, role)).toMatchObject({ kind: 'peers', peers: { added: [peerStatic.instances.at(-1)], removed: [] } });
    // With learned ones (the default), the same plan.
    const learn = allocate({ ...seed, segmentation: 'vxlan' });
    const peerLearn = unconcernedOf(learn, role).find((x) => x.kind === 'peer-run-instance')!.state;
    expect(versionChange(learn, peerLearn, role)).toEqual({ kind: 'same' });
  });

  it('a group the node does not carry gives an other-run-instance; none for the CC or a node with nothing of its own', () => {
    const only = allocate({
      ...seed,
      instances: (seed.instances as Array<{ node: string; group: string }>).filter((i) => !(i.node === 'nc1' && i.group === 'admin/web')),
    });
    const v = unconcernedOf(only, { role: 'nc', node: 'nc1' });
    expect(v.map((x) => x.kind)).toEqual(['authorize', 'peer-run-instance', 'other-run-instance']);
    const other = v[2].state.instances.at(-1)!;
    expect(other).toMatchObject({ node: 'nc2', group: 'admin/web' });
    expect(versionChange(only, v[2].state, { role: 'nc', node: 'nc1' })).toEqual({ kind: 'same' });
    expect(unconcernedOf(s, { role: 'cc' })).toEqual([]);
    const none = allocate({ ...seed, instances: (seed.instances as Array<{ node: string }>).filter((i) => i.node !== 'nc1') });
    expect(unconcernedOf(none, { role: 'nc', node: 'nc1' }).map((x) => x.kind)).toEqual(['other-run-instance']);
  });
});

describe('judgementsFor', () => {
  it('draws JUDGEMENTS and up to JUDGEMENT_JITTER - 1 more, so that agents differ', () => {
    expect(judgementsFor(() => 0)).toBe(JUDGEMENTS);
    expect(judgementsFor(() => 0.999999)).toBe(JUDGEMENTS + JUDGEMENT_JITTER - 1);
    // A source that returned 1 (out of Math.random's range) stays within it too.
    expect(judgementsFor(() => 1)).toBe(JUDGEMENTS + JUDGEMENT_JITTER - 1);
    // A fleet of agents: their counts spread over the range (the same count in all of them is what the jitter is for).
    const counts = new Set(Array.from({ length: 200 }, () => judgementsFor()));
    expect(counts.size).toBeGreaterThan(JUDGEMENT_JITTER / 2);
    for (const n of counts) expect(n >= JUDGEMENTS && n < JUDGEMENTS + JUDGEMENT_JITTER).toBe(true);
  });
});
