// The state validator is ajv's standalone code generated at build time from
// schema/state.schema.json (scripts/gen-validator.mjs). It must be today's
// schema's (not a stale copy), and it must judge every document as ajv
// compiling that schema at run time does: the same verdict and the same first
// error (keyword, path, params), which is what validate.ts turns into its
// messages. The documents: the examples, and every mutation of the seed at
// every path (the value replaced by each JSON type, the key removed, an
// unknown key added).
import { readFileSync } from 'node:fs';
import { Ajv2020, type ErrorObject } from 'ajv/dist/2020.js';
import { describe, expect, test } from 'vitest';
import { validate } from '../../src/managed/state-validator.js';
import { AJV_OPTIONS, OUT_PATH, SCHEMA_PATH, validatorSource } from '../../scripts/gen-validator.mjs';

type Check = ((doc: unknown) => boolean) & { errors?: ErrorObject[] | null };
const schema = JSON.parse(readFileSync(SCHEMA_PATH, 'utf8')) as object;
const generated = validate as unknown as Check;
const runtime = new Ajv2020(AJV_OPTIONS).compile(schema) as Check;

/** What validate.ts reads of a result. */
function verdict(check: Check, doc: unknown) {
  const ok = check(doc);
  const e = check.errors?.[0];
  return ok
    ? { ok }
    : {
        ok,
        keyword: e?.keyword,
        instancePath: e?.instancePath,
        params: e?.params,
        propertyName: (e as { propertyName?: unknown } | undefined)?.propertyName,
        data: e?.data,
        parentProperties: Object.keys((e?.parentSchema as { properties?: object } | undefined)?.properties ?? {}),
      };
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
const REPLACEMENTS: Json[] = [null, true, 7, -1, 1.5, '', 'x', '!bad name', [], {}, ['x'], { x: 1 }];

/** Every document one edit away from `doc`: each value replaced, each key removed, an unknown key added. */
function* mutations(doc: Json): Generator<Json> {
  const clone = () => structuredClone(doc);
  function* walk(path: (string | number)[], v: Json): Generator<Json> {
    for (const r of REPLACEMENTS) yield setAt(clone(), path, r);
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) yield* walk([...path, i], v[i]);
    } else if (v && typeof v === 'object') {
      for (const k of Object.keys(v)) {
        yield deleteAt(clone(), [...path, k]);
        yield* walk([...path, k], v[k]);
      }
      yield setAt(clone(), [...path, 'unknownKey'], 1);
    }
  }
  yield* walk([], doc);
}
function setAt(doc: Json, path: (string | number)[], v: Json): Json {
  if (!path.length) return v;
  let o = doc as Record<string | number, Json>;
  for (const k of path.slice(0, -1)) o = o[k] as Record<string | number, Json>;
  o[path[path.length - 1]] = v;
  return doc;
}
function deleteAt(doc: Json, path: (string | number)[]): Json {
  let o = doc as Record<string | number, Json>;
  for (const k of path.slice(0, -1)) o = o[k] as Record<string | number, Json>;
  const last = path[path.length - 1];
  if (Array.isArray(o)) o.splice(Number(last), 1);
  else delete o[last];
  return doc;
}

describe('the generated state validator', () => {
  test('is the generator output for schema/state.schema.json (not stale)', () => {
    expect(readFileSync(OUT_PATH, 'utf8')).toBe(validatorSource(schema));
  });

  test('judges the examples and every one-edit mutation of the seed as ajv compiling the schema at run time', () => {
    const seed = JSON.parse(readFileSync(new URL('../../examples/seed.json', import.meta.url), 'utf8')) as Json;
    let n = 0;
    let bad = 0;
    for (const doc of [seed, ...mutations(seed)]) {
      const want = verdict(runtime, doc);
      expect(verdict(generated, doc)).toEqual(want);
      n++;
      if (!want.ok) bad++;
    }
    expect(verdict(generated, seed).ok).toBe(true);
    // Both kinds were met, in numbers: the comparison covered failures of many kinds.
    expect(bad).toBeGreaterThan(500);
    expect(n - bad).toBeGreaterThan(20);
  });
});
