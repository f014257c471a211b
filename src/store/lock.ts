// A lock file next to the state file, held for a compare-and-swap or one
// operation's read-run-write, safe across processes on one machine. Node has
// no flock(), so: the lock is created whole and atomically (a temp file hard-linked to the
// lock's name: link() fails with EEXIST while someone holds it), and it names
// its holder (pid, the process's start time from /proc/<pid>/stat, pid
// namespace, host). A holder that is gone (SIGKILLed, crashed) is seen at once:
// no /proc entry, or a different process under that pid. Such a stale lock is
// removed under a second, short-lived lock (".break") after checking that it
// is still the same stale lock, so two waiters never both remove a lock and
// one of them a live one. A holder in another pid namespace or on another
// host cannot be checked; its lock counts as stale after FOREIGN_STALE_MS.
import { randomBytes } from 'node:crypto';
import { readFileSync, readlinkSync } from 'node:fs';
import { link, readFile, stat, unlink, writeFile } from '../util/fs-async.js';
import { hostname } from 'node:os';
import { LockTimeoutError } from './errors.js';

export interface LockOptions {
  /** Give up when one live holder keeps the lock this long (default 10 s). */
  timeoutMs?: number;
}

interface Holder {
  pid: number;
  start: string;
  pidns: string;
  host: string;
  nonce: string;
}

/** A lock of another pid namespace or host older than this is taken as stale. */
export const FOREIGN_STALE_MS = 60_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Field 22 of /proc/<pid>/stat: the process's start time in clock ticks since boot. undefined when there is no such process. */
function startTime(pid: number | 'self'): string | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses; fields resume after the last ')'.
    return text.slice(text.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** Who we are, as written into a lock we hold. */
let me: Omit<Holder, 'nonce'> | undefined;
function self(): Omit<Holder, 'nonce'> {
  if (!me) {
    let pidns = '';
    try {
      pidns = readlinkSync('/proc/self/ns/pid'); // "pid:[4026531836]"
    } catch {
      // no /proc: holders cannot be checked, only aged
    }
    me = { pid: process.pid, start: startTime('self') ?? '', pidns, host: hostname() };
  }
  return me;
}

type Verdict = 'alive' | 'dead';

/** Is the holder still running? A lock of another pid namespace or host is judged by its age. */
async function judge(path: string, h: Holder | undefined): Promise<Verdict> {
  const me = self();
  if (h && h.host === me.host && h.pidns === me.pidns && me.pidns !== '') {
    const start = startTime(h.pid);
    return start !== undefined && start === h.start ? 'alive' : 'dead';
  }
  const st = await stat(path).catch(() => undefined);
  return st && Date.now() - st.mtimeMs < FOREIGN_STALE_MS ? 'alive' : 'dead';
}

async function readHolder(path: string): Promise<{ text: string; holder?: Holder } | undefined> {
  const text = await readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  if (text === undefined) return undefined;
  try {
    const h = JSON.parse(text) as Holder;
    return typeof h.pid === 'number' ? { text, holder: h } : { text };
  } catch {
    return { text };
  }
}

const describe = (h: Holder | undefined): string => (h ? `pid ${h.pid} on ${h.host}` : 'an unreadable lock file');

/** Creates `path` holding our identity, atomically, or returns undefined if it exists. */
async function create(path: string): Promise<string | undefined> {
  const nonce = randomBytes(8).toString('hex');
  const text = `${JSON.stringify({ ...self(), nonce })}\n`;
  const tmp = `${path}.${process.pid}.${nonce}.tmp`;
  await writeFile(tmp, text, { mode: 0o644 });
  try {
    await link(tmp, path);
    return text;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return undefined;
    throw err;
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
}

/** Removes a lock only if it still reads `text` (so never a newer holder's). */
async function removeIf(path: string, text: string): Promise<void> {
  const now = await readHolder(path);
  if (now?.text === text) await unlink(path).catch(() => undefined);
}

/** Removes the stale lock whose content was `text`, under the ".break" lock; false if another waiter is at it. */
async function breakStale(path: string, text: string): Promise<boolean> {
  const brk = `${path}.break`;
  const mine = await create(brk);
  if (mine === undefined) {
    // Another waiter is breaking it (for microseconds); unless that one died there.
    const other = await readHolder(brk);
    if (other && (await judge(brk, other.holder)) === 'dead') await removeIf(brk, other.text);
    return false;
  }
  try {
    await removeIf(path, text);
    return true;
  } finally {
    await unlink(brk).catch(() => undefined);
  }
}

export interface Lock {
  readonly path: string;
  release(): Promise<void>;
}

/** Takes the lock at `path`, waiting while a live process holds it, breaking it if its holder is gone. */
export async function acquireLock(path: string, opts: LockOptions = {}): Promise<Lock> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  // The timeout counts while one holder keeps the lock: writers queueing behind each other are progress.
  let t0 = Date.now();
  let holderText = '';
  for (let attempt = 0; ; attempt++) {
    const text = await create(path);
    if (text !== undefined) return { path, release: () => removeIf(path, text) };
    const held = await readHolder(path);
    if (held === undefined) continue; // released meanwhile
    if (held.text !== holderText) [holderText, t0] = [held.text, Date.now()];
    if ((await judge(path, held.holder)) === 'dead' && (await breakStale(path, held.text))) continue;
    const waited = Date.now() - t0;
    if (waited >= timeoutMs) throw new LockTimeoutError(path, describe(held.holder), waited);
    // Held for milliseconds at a time: poll fast, with jitter so waiters spread out.
    await sleep(Math.min(1 + attempt, 20) * (0.5 + Math.random()));
  }
}

/** Runs `fn` holding the lock; releases it whatever happens. */
export async function withLock<T>(path: string, fn: () => Promise<T>, opts: LockOptions = {}): Promise<T> {
  const lock = await acquireLock(path, opts);
  try {
    return await fn();
  } finally {
    await lock.release();
  }
}
