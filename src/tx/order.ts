// Orders link creations so that a link comes after every link it names
// (a VLAN after its parent, a port after its bridge). Stable otherwise.
import { ValidationError } from '../errors.js';
import { linkRefs, type LinkSpec } from '../rtnl/link.js';

export function orderLinkAdds<T extends { spec: LinkSpec }>(items: T[]): T[] {
  const byName = new Map(items.map((it) => [it.spec.name, it]));
  const out: T[] = [];
  const state = new Map<string, 1 | 2>(); // 1 visiting, 2 done
  const visit = (it: T) => {
    const name = it.spec.name;
    if (state.get(name) === 2) return;
    if (state.get(name) === 1) throw new ValidationError('link', name, 'links refer to each other in a cycle');
    state.set(name, 1);
    for (const ref of linkRefs(it.spec)) {
      const dep = typeof ref === 'string' ? byName.get(ref) : undefined;
      if (dep) visit(dep);
    }
    state.set(name, 2);
    out.push(it);
  };
  items.forEach(visit);
  return out;
}
