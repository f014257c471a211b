// Object identity across versions for a store that parses each version whole
// (the file store): each group, instance and host of a new version that is
// equal in content to the one of the same name in the version before is
// replaced by that one, so the incremental check
// (managed/check-incremental.ts) and allocation's per-object memo see
// unchanged objects as unchanged. Objects are paired by name (an instance by
// its id, a group by owner/name, a host by its key, any other top-level value
// by its key) and compared value by value: a walk over the parsed objects,
// with no JSON text made of each (that was most of a read at 5000 instances).

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null;

/** Deep equality of parsed JSON values (key order does not matter). */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (!isObj(a) || !isObj(b)) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameJson(a[i], b[i])) return false;
    return true;
  }
  let n = 0;
  for (const k in a) {
    n++;
    if (!(k in b) || !sameJson(a[k], b[k])) return false;
  }
  for (const _k in b) n--;
  return n === 0;
}

/** The name an element of `groups` or `instances` is paired by; undefined: not paired (kept as parsed). */
function nameOf(kind: string, v: Obj): string | undefined {
  if (kind === 'instances') return typeof v.id === 'string' ? v.id : undefined;
  return typeof v.owner === 'string' && typeof v.name === 'string' ? `${v.owner}/${v.name}` : undefined;
}

export class Interner {
  private before = new Map<string, unknown>();

  /** `doc` with its objects replaced by the previous version's equal ones (in place: doc is freshly parsed). */
  intern(doc: unknown): unknown {
    if (!isObj(doc) || Array.isArray(doc)) return doc;
    const now = new Map<string, unknown>();
    const one = (v: unknown, key: string | undefined): unknown => {
      if (!isObj(v) || key === undefined) return v;
      // A name met twice in one version (an invalid state) pairs its first object only.
      if (now.has(key)) return v;
      const had = this.before.get(key);
      const out = had !== undefined && sameJson(had, v) ? had : v;
      now.set(key, out);
      return out;
    };
    for (const [k, v] of Object.entries(doc)) {
      if ((k === 'groups' || k === 'instances') && Array.isArray(v)) doc[k] = v.map((x) => (isObj(x) ? one(x, ((n) => n && `${k}\u0000${n}`)(nameOf(k, x))) : x));
      else if ((k === 'nodes' || k === 'clusters') && isObj(v) && !Array.isArray(v)) {
        for (const [name, h] of Object.entries(v)) v[name] = one(h, `${k}.${name}`);
      } else doc[k] = one(v, k);
    }
    this.before = now;
    return doc;
  }
}
