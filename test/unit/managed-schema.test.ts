// The schema shipped in dist/ (src/managed/schema.ts) and the copy editors use
// (schema/state.schema.json) must not drift. EUCANET_UPDATE_SCHEMA=1 rewrites the copy.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { checkSchema, stateSchema, validateState } from '../../src/managed/index.js';

const copy = new URL('../../schema/state.schema.json', import.meta.url);
const text = `${JSON.stringify(stateSchema, null, 2)}\n`;

describe('state schema', () => {
  test('schema/state.schema.json is the schema module, verbatim', () => {
    if (process.env.EUCANET_UPDATE_SCHEMA === '1') writeFileSync(copy, text);
    expect(existsSync(copy)).toBe(true);
    expect(readFileSync(copy, 'utf8')).toBe(text);
  });

  test('is draft 2020-12 and documents the vxlan underlay', () => {
    expect(stateSchema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(stateSchema.properties.cc.properties.underlay.description).toMatch(/vxlan/);
    expect(stateSchema.properties.segmentation.description).toMatch(/underlay/);
  });

  test('the examples pass', () => {
    for (const f of ['seed.json']) {
      const doc = JSON.parse(readFileSync(new URL(`../../examples/${f}`, import.meta.url), 'utf8'));
      expect(() => validateState(doc)).not.toThrow();
    }
  });

  test('a shape error names the path and the value', () => {
    expect(() => checkSchema({ mode: 'MANAGED', subnet: '10.1.0.0/16', addrsPerNet: '32', cc: {} })).toThrow(/invalid addrsPerNet "32": must be integer/);
  });
});
