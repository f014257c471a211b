// Object identity across versions for a store that parses each version whole
// (the file store): each group, instance and host of a new version that is
// equal in content to one of the version before is replaced by that one, so
// the incremental check (managed/check-incremental.ts) and allocation's
// per-object memo see unchanged objects as unchanged. Equality is by JSON
// text: JSON.stringify of a parsed object, which keeps the file's key order
// (two orderings of the same keys are two objects: checked again, not wrong).

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null;

export class Interner {
  private before = new Map<string, unknown>();

  /** `doc` with its objects replaced by the previous version's equal ones (in place: doc is freshly parsed). */
  intern(doc: unknown): unknown {
    if (!isObj(doc) || Array.isArray(doc)) return doc;
    const now = new Map<string, unknown>();
    const one = (v: unknown, kind: string): unknown => {
      if (!isObj(v)) return v;
      const key = `${kind}\u0000${JSON.stringify(v)}`;
      const same = now.get(key) === undefined ? this.before.get(key) : undefined;
      const out = same ?? v;
      now.set(key, out);
      return out;
    };
    for (const [k, v] of Object.entries(doc)) {
      if ((k === 'groups' || k === 'instances') && Array.isArray(v)) doc[k] = v.map((x) => one(x, k));
      else if ((k === 'nodes' || k === 'clusters') && isObj(v) && !Array.isArray(v)) {
        for (const [name, h] of Object.entries(v)) v[name] = one(h, `${k}.${name}`);
      } else doc[k] = one(v, k);
    }
    this.before = now;
    return doc;
  }
}
