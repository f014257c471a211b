// Checks a desired-state document: first its shape against the JSON Schema
// (ajv's code for it, generated at build time: state-validator.ts), then what a schema cannot say (addresses, ranges, references,
// uniqueness). The first problem found is thrown as a ValidationError naming
// the field path and the value; nothing is changed.
import type { ErrorObject } from 'ajv/dist/2020.js';
import { ValidationError } from '../errors.js';
import { checkGroups } from './check-groups.js';
import { checkInstances } from './check-instances.js';
import { checkNetwork, type NetCtx } from './check-network.js';
import { join } from './fields.js';
import { validate } from './state-validator.js';
import type { State } from './types.js';
import type { GroupInfo } from './check-groups.js';
import { must } from '../util/must.js';

/** The schema's validator (scripts/gen-validator.mjs): true or false, and on false its first error. */
type SchemaCheck = ((doc: unknown) => boolean) & { errors?: ErrorObject[] | null };
const schemaCheck = validate as SchemaCheck;

const NAME_RULE = 'letters, digits, "_", "." and "-", starting with a letter or digit';

/** Locates an ajv instancePath in the document: the readable path and the value there. */
function locate(doc: unknown, pointer: string): { field: string; value: unknown } {
  let field = '';
  let value = doc;
  for (const raw of pointer.split('/').slice(1)) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    field = Array.isArray(value) ? join(field, Number(key)) : join(field, key);
    value = (value as Record<string, unknown> | undefined)?.[key];
  }
  return { field, value };
}

function schemaError(doc: unknown, e: ErrorObject): ValidationError {
  const at = locate(doc, e.instancePath);
  const p = e.params as Record<string, unknown>;
  const sub = (key: string) => ({ field: join(at.field, key), value: (at.value as Record<string, unknown>)[key] });
  // A bad key of a map (nodes): ajv puts the key on the error, or in its params.
  const key = (e as { propertyName?: unknown }).propertyName ?? p.propertyName;
  if (typeof key === 'string') {
    return new ValidationError(join(at.field, key), key, `is not a valid name (${NAME_RULE})`);
  }
  switch (e.keyword) {
    case 'required': {
      const f = sub(String(p.missingProperty));
      return new ValidationError(f.field, f.value, 'is required');
    }
    case 'additionalProperties': {
      const f = sub(String(p.additionalProperty));
      const known = Object.keys((e.parentSchema as { properties?: object })?.properties ?? {});
      return new ValidationError(f.field, f.value, `is not a known property (known: ${known.join(', ')})`);
    }
    case 'enum':
      return new ValidationError(at.field, at.value, `must be one of ${(p.allowedValues as unknown[]).join(', ')}`);
    case 'type':
      return new ValidationError(at.field || '(document)', at.value, `must be ${[p.type].flat().join(' or ')}`);
    case 'pattern':
      return new ValidationError(at.field, at.value, `must be ${NAME_RULE}`);
    default:
      return new ValidationError(at.field || '(document)', at.value, e.message ?? e.keyword);
  }
}

/** Checks the shape only (the JSON Schema). */
export function checkSchema(doc: unknown): asserts doc is State {
  if (!schemaCheck(doc)) throw schemaError(doc, must(schemaCheck.errors, "the schema validator's errors")[0]);
}

export interface CheckedState {
  state: State;
  net: NetCtx;
  groups: Map<string, GroupInfo>;
}

/** Schema plus semantic checks; returns what allocation needs. */
export function checkState(doc: unknown): CheckedState {
  checkSchema(doc);
  const net = checkNetwork(doc);
  const groups = checkGroups(doc, net);
  checkInstances(doc, net, groups);
  return { state: doc, net, groups };
}

/** Validates a parsed document and returns it typed. Throws the first ValidationError. */
export function validateState(doc: unknown): State {
  return checkState(doc).state;
}

/** Parses JSON text (`source` names it in errors) and validates it. */
export function parseState(text: string, source = 'state'): State {
  return validateState(parseJson(text, source));
}

export function parseJson(text: string, source: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ValidationError(source, text.length > 40 ? `${text.slice(0, 40)}…` : text, `not valid JSON: ${(err as Error).message}`);
  }
}
