// node:fs's callback functions as promises (util.promisify, typed by
// @types/node's __promisify__ declarations), for the modules a cold command
// runs. Not node:fs/promises: loading it pulls in eight more of Node's
// internal modules (FileHandle, readline, watchers), about 1.3 ms, and a
// command that runs once would load them after the launcher has set V8's
// flags (cli/cold-start.ts). A change of flags changes the flag hash that V8
// checks code caches against, so Node's own embedded cache for them is
// refused and each is compiled from its source: 3.6 to 8.3 ms then. node:fs
// and node:util are loaded as Node starts.
import * as fs from 'node:fs';
import { promisify } from 'node:util';

export const readFile = promisify(fs.readFile);
export const writeFile = promisify(fs.writeFile);
export const stat = promisify(fs.stat);
export const lstat = promisify(fs.lstat);
export const fstat = promisify(fs.fstat);
export const mkdir = promisify(fs.mkdir);
export const chmod = promisify(fs.chmod);
export const fchmod = promisify(fs.fchmod);
export const fchown = promisify(fs.fchown);
export const fsync = promisify(fs.fsync);
export const open = promisify(fs.open);
export const close = promisify(fs.close);
export const readdir = promisify(fs.readdir);
export const realpath = promisify(fs.realpath);
export const rename = promisify(fs.rename);
export const unlink = promisify(fs.unlink);
export const link = promisify(fs.link);
export const rm = promisify(fs.rm);
