// The state file as a source of versions: a version is the digest of the
// file's bytes (equal content, equal version; no clock involved), and a change
// is seen through inotify on the file's directory, since writers replace the
// file atomically (write a temporary file, rename it over).
import { createHash } from 'node:crypto';
import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { ValidationError } from '../errors.js';
import { allocate } from '../managed/allocate.js';
import { loadState } from '../managed/statefile.js';
import type { AllocatedState } from '../managed/types.js';
import type { StateRead, StateSource } from './types.js';

/** The version of a state text: the first 16 hex digits of its SHA-256. */
export const versionOf = (text: string | Buffer): string => createHash('sha256').update(text).digest('hex').slice(0, 16);

export interface FileSourceOptions {
  /** A eucalyptus.conf whose VNET_* keys give the network settings. */
  conf?: string;
}

export class FileStateSource implements StateSource {
  readonly path: string;
  readonly name: string;

  constructor(
    path: string,
    private readonly opts: FileSourceOptions = {},
  ) {
    this.path = resolve(path);
    this.name = `file ${this.path}`;
  }

  async read(known?: { version: string; state: AllocatedState }): Promise<StateRead> {
    const bytes = await readFile(this.path);
    const version = versionOf(bytes);
    if (known && known.version === version && this.opts.conf === undefined) return { version, state: known.state };
    try {
      // loadState reads the file again: a writer may have replaced it in
      // between, so the version is taken from what loadState read.
      const loaded = await loadState(this.path, this.opts.conf !== undefined ? { conf: this.opts.conf } : {});
      return { version: versionOf(loaded.text), state: allocate(loaded.state) };
    } catch (err) {
      if (err instanceof ValidationError) return { version, invalid: err };
      throw err;
    }
  }

  watch(onChange: () => void): () => void {
    const name = basename(this.path);
    const w: FSWatcher = watch(dirname(this.path), { persistent: true }, (_event, file) => {
      if (file === null || file === name) onChange();
    });
    w.on('error', () => onChange());
    return () => w.close();
  }
}
