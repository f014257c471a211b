// The file store (src/store/): versions, compare-and-swap, validation before
// writing, the watch, the lock (stale holders broken, live ones waited for),
// and update() retrying conflicts. No root: files in a temp directory.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.js';
import * as ops from '../../src/managed/ops/index.js';
import { allocate } from '../../src/managed/allocate.js';
import { formatState } from '../../src/managed/statefile.js';
import type { State } from '../../src/managed/types.js';
import { parseState } from '../../src/managed/validate.js';
import { ConflictError, FileStore, LockTimeoutError, acquireLock, contentVersion, update, type Store } from '../../src/store/index.js';
import { FOREIGN_STALE_MS } from '../../src/store/lock.js';
import { writeFileAtomic } from '../../src/util/file.js';

const dir = mkdtempSync(join(tmpdir(), 'eucanet-store-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const seedText = readFileSync(new URL('../../examples/seed.json', import.meta.url), 'utf8');
const seed = (): State => parseState(seedText);
let n = 0;
function stateFile(text = seedText): string {
  const p = join(dir, `cloud-${n++}.json`);
  writeFileSync(p, text);
  return p;
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The next value of an iterator, or 'timeout'. */
async function nextWithin<T>(it: AsyncIterator<T>, ms: number): Promise<IteratorResult<T> | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), ms)));
  try {
    return await Promise.race([it.next(), t]);
  } finally {
    clearTimeout(timer);
  }
}

describe('FileStore read and write', () => {
  it('the version is the hash of the bytes; a conditional write on an old version is refused and writes nothing', async () => {
    const p = stateFile();
    const store = new FileStore(p);
    const a = await store.read();
    expect(a.version).toBe(contentVersion(seedText));
    expect(a.version).toMatch(/^[0-9a-f]{16}$/);
    const next = ops.createGroup(a.state, 'bob/db').state;
    const v = await store.write(next, { ifVersion: a.version });
    expect(v).toBe(contentVersion(readFileSync(p)));
    expect(readFileSync(p, 'utf8')).toBe(formatState(next));
    const before = readFileSync(p);
    const err = await store.write(ops.createGroup(a.state, 'bob/web').state, { ifVersion: a.version }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConflictError);
    expect(err).toMatchObject({ expected: a.version, actual: v, code: 'ECONFLICT' });
    expect(readFileSync(p).equals(before)).toBe(true);
    // Rewriting the same content is no new version.
    expect(await store.write(next, { ifVersion: v })).toBe(v);
    expect(existsSync(`${p}.lock`)).toBe(false);
  });

  it('a state that does not validate is refused before the lock, the file untouched', async () => {
    const p = stateFile();
    const store = new FileStore(p);
    const bad = { ...seed(), addrsPerNet: 33 };
    await expect(store.write(bad)).rejects.toBeInstanceOf(ValidationError);
    expect(readFileSync(p, 'utf8')).toBe(seedText);
  });

  it('ifVersion "" creates the file only when there is none; reading a bad file names it', async () => {
    const p = join(dir, 'new.json');
    const store = new FileStore(p);
    await store.write(seed(), { ifVersion: '' });
    await expect(store.write(seed(), { ifVersion: '' })).rejects.toBeInstanceOf(ConflictError);
    const bad = stateFile('{"mode": ');
    await expect(new FileStore(bad).read()).rejects.toThrow(new RegExp(`invalid ${bad}`));
  });
});

describe('FileStore watch', () => {
  it('yields the version of each write, from eucanet or any other writer, and ends on close', async () => {
    const p = stateFile();
    const store = new FileStore(p, { pollMs: 5000 }); // inotify, not the poll
    const it = store.watch();
    await sleep(50); // the baseline is taken
    const s = ops.createGroup(seed(), 'bob/db').state;
    const v = await store.write(s);
    expect(await nextWithin(it, 2000)).toEqual({ value: v, done: false });
    const text = formatState(ops.createGroup(s, 'bob/web').state);
    await writeFileAtomic(p, text); // another writer, no lock
    expect(await nextWithin(it, 2000)).toEqual({ value: contentVersion(text), done: false });
    await store.close();
    expect(await nextWithin(it, 2000)).toEqual({ value: undefined, done: true });
  });

  it("a read right after the watch reported a version uses the watch's bytes (the file is not read again); a fresh read, or a file replaced since, is read", async () => {
    // A large state, so that one read of it stands out in the process's read bytes (/proc/self/io rchar).
    const big = ops.createGroup(seed(), 'bob/db').state;
    big.groups = [...(big.groups ?? []), ...Array.from({ length: 400 }, (_, i) => ({ owner: 'load', name: `g${i}`, rules: [] }))];
    const p = stateFile(formatState(seed()));
    const size = Buffer.byteLength(formatState(big));
    const rchar = () => Number(/rchar: (\d+)/.exec(readFileSync('/proc/self/io', 'utf8'))?.[1]);
    const store = new FileStore(p, { pollMs: 5000 });
    const it = store.watch();
    await sleep(50);
    const v = await store.write(big);
    expect(await nextWithin(it, 2000)).toEqual({ value: v, done: false });
    let r0 = rchar();
    const snap = await store.read();
    const readBytes = rchar() - r0;
    expect(snap.version).toBe(v);
    expect(snap.state.groups).toHaveLength(big.groups.length);
    expect(readBytes, 'bytes read by the read after the watch').toBeLessThan(size / 2);
    r0 = rchar();
    expect((await store.read({ fresh: true })).version).toBe(v);
    expect(rchar() - r0, 'a fresh read reads the file').toBeGreaterThanOrEqual(size);
    // Replaced by another writer before the watch saw it: read, with the new version.
    const text = formatState(ops.createGroup(big, 'bob/web').state);
    await writeFileAtomic(p, text);
    expect((await store.read()).version).toBe(contentVersion(text));
    await store.close();
  });

  it('a burst of writes: a slow consumer gets the latest version, not a stale one', async () => {
    const p = stateFile();
    const store = new FileStore(p);
    const it = store.watch({ since: contentVersion(seedText) });
    let s = seed();
    let last = '';
    for (let i = 0; i < 30; i++) {
      s = ops.createGroup(s, `u${i}/g`).state;
      last = await store.write(s);
    }
    await sleep(300);
    const seen: string[] = [];
    for (;;) {
      const r = await nextWithin(it, 500);
      if (r === 'timeout' || r.done) break;
      seen.push(r.value);
    }
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.length).toBeLessThan(30);
    expect(seen.at(-1)).toBe(last);
    await store.close();
  });

  it('since: a version other than the one given is yielded at once', async () => {
    const p = stateFile();
    const store = new FileStore(p);
    const it = store.watch({ since: 'not-this-one' });
    expect(await nextWithin(it, 2000)).toEqual({ value: contentVersion(seedText), done: false });
    await store.close();
  });

  it('without inotify (its directory did not exist yet) the periodic stat finds the file', async () => {
    const sub = join(dir, 'later');
    const p = join(sub, 'cloud.json');
    const store = new FileStore(p, { pollMs: 50 });
    const it = store.watch({ since: '' }); // "" is the version of no file
    await sleep(120);
    mkdirSync(sub);
    writeFileSync(p, seedText);
    expect(await nextWithin(it, 2000)).toEqual({ value: contentVersion(seedText), done: false });
    await store.close();
  });
});

describe('the lock', () => {
  it('a live holder is waited for; after the timeout the error names it', async () => {
    const p = join(dir, 'l1.lock');
    const held = await acquireLock(p);
    const t0 = Date.now();
    const err = await acquireLock(p, { timeoutMs: 200 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LockTimeoutError);
    expect((err as Error).message).toBe(
      `${p}: still held by pid ${process.pid} on ${(JSON.parse(readFileSync(p, 'utf8')) as { host: string }).host} after ${(err as LockTimeoutError).waitedMs} ms`,
    );
    expect(Date.now() - t0).toBeGreaterThanOrEqual(200);
    const waiting = acquireLock(p);
    await sleep(30);
    await held.release();
    const second = await waiting;
    await second.release();
    expect(existsSync(p)).toBe(false);
  });

  it('a lock left by a process that is gone is broken at once', async () => {
    const p = join(dir, 'l2.lock');
    // A real process takes the lock and exits without releasing it.
    const child = spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import { acquireLock } from ${JSON.stringify(new URL('../../dist/store/lock.js', import.meta.url).href)}; await acquireLock(${JSON.stringify(p)}); process.exit(0);`,
      ],
      { encoding: 'utf8' },
    );
    expect(child.stderr).toBe('');
    expect(JSON.parse(readFileSync(p, 'utf8'))).toMatchObject({ pid: child.pid });
    const t0 = Date.now();
    const lock = await acquireLock(p, { timeoutMs: 2000 });
    expect(Date.now() - t0).toBeLessThan(500);
    expect(JSON.parse(readFileSync(p, 'utf8'))).toMatchObject({ pid: process.pid });
    await lock.release();
    expect(existsSync(`${p}.break`)).toBe(false);
  });

  it('a lock naming our pid but another start time (the pid reused) is stale; one from another pid namespace is judged by its age', async () => {
    const p = join(dir, 'l3.lock');
    const l = await acquireLock(p);
    const me = JSON.parse(readFileSync(p, 'utf8')) as Record<string, unknown>;
    await l.release();
    writeFileSync(p, JSON.stringify({ ...me, start: '1', nonce: 'x' }));
    await (await acquireLock(p, { timeoutMs: 100 })).release();
    writeFileSync(p, JSON.stringify({ ...me, pidns: 'pid:[1]', nonce: 'y' }));
    await expect(acquireLock(p, { timeoutMs: 100 })).rejects.toBeInstanceOf(LockTimeoutError);
    const old = (Date.now() - FOREIGN_STALE_MS - 1000) / 1000;
    utimesSync(p, old, old);
    await (await acquireLock(p, { timeoutMs: 100 })).release();
  });
});

describe('update()', () => {
  it('twenty concurrent updates all land: through the lock they queue, with no conflict', async () => {
    const p = stateFile();
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        update(new FileStore(p), (s) => ops.authorize(s, 'admin/web', { protocol: 'tcp', from: 8000 + i, cidr: '0.0.0.0/0' })),
      ),
    );
    const rules = (await new FileStore(p).read()).state.groups?.find((g) => g.name === 'web')?.rules ?? [];
    expect(rules.map((r) => r.from).sort()).toEqual([80, ...Array.from({ length: 20 }, (_, i) => 8000 + i)]);
    expect(results.every((r) => r.written)).toBe(true);
    expect(results.map((r) => r.retries)).toEqual(Array(20).fill(0));
  });

  it('the lock timeout counts per holder: ten writers of 60 ms each queue behind a 300 ms timeout', async () => {
    const p = stateFile();
    const slow = (i: number) => (s: State) => {
      const end = Date.now() + 60;
      while (Date.now() < end); // an operation that takes its time (a big state)
      return ops.authorize(s, 'admin/web', { protocol: 'tcp', from: 7000 + i, cidr: '0.0.0.0/0' });
    };
    const t0 = Date.now();
    await Promise.all(Array.from({ length: 10 }, (_, i) => update(new FileStore(p, { lockTimeoutMs: 300 }), slow(i))));
    expect(Date.now() - t0).toBeGreaterThan(600);
    expect((await new FileStore(p).read()).state.groups?.[1].rules).toHaveLength(11);
  });

  it('on a store without a lock (compare-and-swap only, as etcd) twenty concurrent updates all land, conflicts retried and counted', async () => {
    const p = stateFile();
    const casOnly = (): Store => {
      const f = new FileStore(p);
      return { name: f.name, read: () => f.read(), write: (s, o) => f.write(s, o), watch: (o) => f.watch(o), close: () => f.close() };
    };
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => update(casOnly(), (s) => ops.authorize(s, 'admin/web', { protocol: 'udp', from: 8000 + i, cidr: '0.0.0.0/0' }))),
    );
    const rules = (await new FileStore(p).read()).state.groups?.find((g) => g.name === 'web')?.rules ?? [];
    expect(rules.filter((r) => r.protocol === 'udp')).toHaveLength(20);
    expect(results.reduce((a, r) => a + r.retries, 0)).toBeGreaterThan(0);
  });

  it('dry run writes nothing; a refused operation is not retried; conflicts past the bound throw', async () => {
    const p = stateFile();
    const store = new FileStore(p);
    const r = await update(store, (s) => ops.createGroup(s, 'bob/db'), { dryRun: true });
    expect(r).toMatchObject({ written: false, retries: 0, changes: [{ kind: 'group-added', group: 'bob/db' }] });
    expect(readFileSync(p, 'utf8')).toBe(seedText);
    let calls = 0;
    await expect(update(store, (s) => (calls++, ops.createGroup(s, 'admin/web')))).rejects.toThrow('invalid group "admin/web": already exists');
    expect(calls).toBe(1);
    // Someone writes between every read and write: the bound is reached.
    let k = 0;
    const err = await update(
      store,
      (s) => {
        writeFileSync(p, formatState(ops.createGroup(seed(), `x${k++}/y`).state));
        return ops.createGroup(s, 'bob/db');
      },
      { retries: 3 },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConflictError);
    expect((err as ConflictError).attempts).toBe(4);
    expect((err as Error).message).toMatch(/: changed by another writer \(expected version [0-9a-f]{16}, found [0-9a-f]{16}\); gave up after 4 attempts$/);
  });
});

describe('file store: versions read one after the other', () => {
  it('an object unchanged since the last read is the same object (checked and allocated once); a changed one is new; a bad version is still refused naming its field', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'eucanet-intern-'));
    try {
      const path = join(dir, 'state.json');
      const v1 = allocate(JSON.parse(readFileSync(new URL('../../examples/seed.json', import.meta.url), 'utf8')) as State);
      writeFileSync(path, JSON.stringify(v1));
      const store = new FileStore(path);
      const a = (await store.read()).state;
      const v2 = structuredClone(v1);
      v2.instances[1].port = 'vnet7';
      writeFileSync(path, JSON.stringify(v2));
      const b = (await store.read()).state;
      expect(b.instances![0]).toBe(a.instances![0]);
      expect(b.instances![1]).not.toBe(a.instances![1]);
      expect(b.instances![1].port).toBe('vnet7');
      expect(b.groups![1]).toBe(a.groups![1]);
      expect(b).toEqual(JSON.parse(JSON.stringify(v2)));
      // An unchanged instance made a duplicate of a changed one's address: refused as a full check refuses it.
      const v3 = structuredClone(v2);
      v3.instances[1].privateIp = v3.instances[0].privateIp;
      writeFileSync(path, JSON.stringify(v3));
      const err = await store.read().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ValidationError);
      expect((err as ValidationError).message).toMatch(/instances\[1\]\.privateIp.*duplicate privateIp/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
