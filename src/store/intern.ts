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
  /** The previous version's objects: by kind ("instances", "groups", "nodes", a top-level key), then by name. */
  private before = new Map<string, Map<string, unknown>>();

  /** `doc` with its objects replaced by the previous version's equal ones (in place: doc is freshly parsed). */
  intern(doc: unknown): unknown {
    if (!isObj(doc) || Array.isArray(doc)) return doc;
    const now = new Map<string, Map<string, unknown>>();
    const kindOf = (kind: string): [Map<string, unknown>, Map<string, unknown> | undefined] => {
      let m = now.get(kind);
      if (!m) now.set(kind, (m = new Map<string, unknown>()));
      return [m, this.before.get(kind)];
    };
    const one = (v: unknown, [seen, had]: [Map<string, unknown>, Map<string, unknown> | undefined], name: string | undefined): unknown => {
      if (!isObj(v) || name === undefined) return v;
      // A name met twice in one version (an invalid state) pairs its first object only.
      if (seen.has(name)) return v;
      const prev = had?.get(name);
      const out = prev !== undefined && sameJson(prev, v) ? prev : v;
      seen.set(name, out);
      return out;
    };
    for (const [k, v] of Object.entries(doc)) {
      if ((k === 'groups' || k === 'instances') && Array.isArray(v)) {
        const maps = kindOf(k);
        for (let i = 0; i < v.length; i++) {
          const x: unknown = v[i];
          if (isObj(x)) v[i] = one(x, maps, nameOf(k, x));
        }
      } else if ((k === 'nodes' || k === 'clusters') && isObj(v) && !Array.isArray(v)) {
        const maps = kindOf(k);
        for (const [name, h] of Object.entries(v)) v[name] = one(h, maps, name);
      } else doc[k] = one(v, kindOf(''), k);
    }
    this.before = now;
    return doc;
  }
}
