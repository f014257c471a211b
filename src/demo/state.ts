// The demo's desired state: examples/seed.json, with the segmentation chosen,
// and for scale mode (--instances N) more instances spread over the groups and
// both node controllers.
import { fileURLToPath } from 'node:url';
import { allocate } from '../managed/allocate.js';
import { loadState } from '../managed/statefile.js';
import type { AllocatedState, Instance, Segmentation, State } from '../managed/types.js';
import { ValidationError } from '../errors.js';

export const SEED_PATH = fileURLToPath(new URL('../../examples/seed.json', import.meta.url));

/** The seed's eight instances have namespaces and run the checks; the rest are taps. */
export const SEED_INSTANCES = 8;

/**
 * Scale mode spreads instances over 2 groups and 2 nodes, so each node has a
 * bridge per group (one for both without segmentation). A bridge takes 1023
 * ports, one of them the uplink: 1022 instances a bridge.
 */
const PER_BRIDGE = 1022;
export const MAX_INSTANCES = 4 * PER_BRIDGE;
/** Without segmentation both groups share each node's one bridge. */
export const MAX_INSTANCES_UNSEGMENTED = 2 * PER_BRIDGE;

/** The demo's state, allocated, and the document it comes from (what the demo writes to its store). */
export async function demoState(segmentation: Segmentation, instances = SEED_INSTANCES): Promise<AllocatedState> {
  return allocate(await demoDoc(segmentation, instances));
}

export async function demoDoc(segmentation: Segmentation, instances = SEED_INSTANCES): Promise<State> {
  const { state } = await loadState(SEED_PATH);
  const s: State = structuredClone(state);
  s.segmentation = segmentation;
  s.mode = segmentation === 'none' ? 'MANAGED-NOVLAN' : 'MANAGED';
  if (instances !== SEED_INSTANCES) scaleUp(s, instances);
  if (segmentation === 'none' && instances > MAX_INSTANCES_UNSEGMENTED) {
    throw new ValidationError(
      'instances',
      instances,
      `without segmentation each node's one bridge takes ${PER_BRIDGE} instances: at most ${MAX_INSTANCES_UNSEGMENTED}`,
    );
  }
  return s;
}

/**
 * N instances: the seed's eight, then the rest alternating over the two
 * groups and the two nodes. The group blocks grow (addrsPerNet, the next power
 * of two that holds half of them) when /27s are too small; the seed's explicit
 * 10.1.2.0/27 then gives way to an allocated block.
 */
function scaleUp(s: State, n: number): void {
  if (!Number.isInteger(n) || n < SEED_INSTANCES || n > MAX_INSTANCES) {
    throw new ValidationError('instances', n, `the demo needs ${SEED_INSTANCES}..${MAX_INSTANCES} instances (the checks use the seed's eight)`);
  }
  const perGroup = Math.ceil(n / 2);
  let size = s.addrsPerNet;
  while (size - 3 < perGroup) size *= 2;
  if (size !== s.addrsPerNet) {
    s.addrsPerNet = size;
    for (const g of s.groups ?? []) delete g.subnet;
  }
  const groups = (s.groups ?? []).map((g) => `${g.owner}/${g.name}`);
  const nodes = Object.keys(s.nodes ?? {});
  const extra: Instance[] = [];
  for (let k = SEED_INSTANCES; k < n; k++) {
    extra.push({ id: `i-${k + 1}`, group: groups[k % groups.length], node: nodes[Math.floor(k / groups.length) % nodes.length] });
  }
  s.instances = [...(s.instances ?? []), ...extra];
}
