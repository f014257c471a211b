// State files: load (JSON, optionally with a eucalyptus.conf for the network
// settings), and allocate in place with an atomic write-back.
import { readFile } from '../util/fs-async.js';
import { ValidationError } from '../errors.js';
import { writeFileAtomic } from '../util/file.js';
import { allocate } from './allocate.js';
import { withAllocations } from './document.js';
import type { AllocatedState, State } from './types.js';
import { parseJson, validateState } from './validate.js';
import { parseVnetConf, type VnetSettings } from './vnetconf.js';

export interface LoadOptions {
  /** A eucalyptus.conf whose VNET_* keys give the network settings. */
  conf?: string;
}

export interface LoadedState {
  /** The validated state: the document merged with the conf's settings. */
  state: State;
  /** The JSON document as read, before merging. */
  document: Record<string, unknown>;
  /** The document's text as read. */
  text: string;
  /** Conf keys read but not used. */
  warnings: string[];
}

type Doc = Record<string, unknown>;
const isObject = (v: unknown): v is Doc => typeof v === 'object' && v !== null && !Array.isArray(v);
const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/**
 * Merges conf settings into a document. A setting present in both must agree:
 * a silent winner would hide an edit made in one place.
 */
export function mergeSettings(doc: Doc, settings: VnetSettings, source: string): Doc {
  const out: Doc = { ...doc };
  for (const [key, value] of Object.entries(settings) as Array<[string, unknown]>) {
    if (key === 'cc' && isObject(value)) {
      const cc: Doc = isObject(doc.cc) ? { ...doc.cc } : {};
      for (const [k, v] of Object.entries(value)) {
        if (cc[k] !== undefined && !same(cc[k], v)) {
          throw new ValidationError(`cc.${k}`, cc[k], `conflicts with ${source} (${JSON.stringify(v)})`);
        }
        cc[k] = v;
      }
      out.cc = cc;
    } else if (doc[key] !== undefined && !same(doc[key], value)) {
      throw new ValidationError(key, doc[key], `conflicts with ${source} (${JSON.stringify(value)})`);
    } else {
      out[key] = value;
    }
  }
  return out;
}

/** The file's text, its document, and the document merged with the conf's settings (not yet validated). */
async function readDocument(path: string, opts: LoadOptions): Promise<{ text: string; document: Doc; merged: Doc; warnings: string[] }> {
  const text = await readFile(path, 'utf8');
  const document = parseJson(text, path);
  if (!isObject(document)) throw new ValidationError(path, document, 'expected a JSON object');
  if (opts.conf === undefined) return { text, document, merged: document, warnings: [] };
  const conf = parseVnetConf(await readFile(opts.conf, 'utf8'), opts.conf);
  return { text, document, merged: mergeSettings(document, conf.settings, opts.conf), warnings: conf.warnings };
}

/** Reads and validates a state file (JSON), with the network settings of `opts.conf` if given. */
export async function loadState(path: string, opts: LoadOptions = {}): Promise<LoadedState> {
  const { text, document, merged, warnings } = await readDocument(path, opts);
  // A copy is validated: `document` stays as the file had it, whatever is later done to the state.
  return { state: validateState(structuredClone(merged)), document, text, warnings };
}

/**
 * The validated state of a file, for a caller that needs neither its text nor
 * its document as read (apply, show): the parsed document is validated as it
 * is, without the copy loadState keeps (a cold apply of thousands of
 * instances reads one state).
 */
export async function readState(path: string, opts: LoadOptions = {}): Promise<Pick<LoadedState, 'state' | 'warnings'>> {
  const { merged, warnings } = await readDocument(path, opts);
  return { state: validateState(merged), warnings };
}

export const formatState = (doc: unknown): string => `${JSON.stringify(doc, null, 2)}\n`;

export interface AllocateFileResult {
  state: AllocatedState;
  /** False when the file already held every allocation (it was not rewritten). */
  changed: boolean;
  warnings: string[];
}

/** Loads, validates and allocates a state file, and writes it back atomically if anything was filled. */
export async function allocateFile(path: string, opts: LoadOptions = {}): Promise<AllocateFileResult> {
  const loaded = await loadState(path, opts);
  const state = allocate(loaded.state);
  const text = formatState(withAllocations(loaded.document, state));
  const changed = text !== loaded.text;
  if (changed) await writeFileAtomic(path, text);
  return { state, changed, warnings: loaded.warnings };
}

export { withAllocations, writeFileAtomic };
