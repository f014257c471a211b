// A program started inside a namespace without a fork (native/spawn.cc through
// src/sys/spawn.ts): it runs in the namespace asked for, in its own session,
// with signals at their defaults, fd 0-2 as given and no other descriptor of
// ours; its exit code or signal arrives as one 'exit' event; failures name the
// call and errno; and the parent takes no page faults for its own memory
// afterwards, as it does after child_process's fork. Needs root (namespaces).
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SystemCallError } from '../../src/native.js';
import { spawnInNetns, type SpawnedProcess } from '../../src/sys/spawn.js';
import { isRoot, withNetns } from '../helpers/netns.js';

if (!isRoot) console.warn('test/integration/native-spawn.test.ts: skipped, needs root (network namespaces)');

const exited = (p: SpawnedProcess) => new Promise<[number | null, string | null]>((resolve) => p.once('exit', (code, signal) => resolve([code, signal])));

describe.skipIf(!isRoot)('spawnInNetns (root)', () => {
  it('runs in the namespace asked for, in its own session, signals at their defaults, only fd 0-2; reports its exit code', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'eucanet-spawn-'));
    try {
      await withNetns(async (ns) => {
        const out = join(dir, 'out');
        const fd = openSync(out, 'w');
        // An fd of ours without CLOEXEC would show up in the child's /proc/self/fd.
        const leak = openSync('/dev/null', 'r');
        let p: SpawnedProcess;
        try {
          p = spawnInNetns(
            '/bin/sh',
            [
              '-c',
              'readlink /proc/self/ns/net; cut -d" " -f6 /proc/self/stat; grep SigIgn /proc/self/status; grep SigBlk /proc/self/status; ls /proc/self/fd; echo "$X"; exit 7',
            ],
            { netns: `/run/netns/${ns}`, stdio: [undefined, fd, fd], env: { X: 'given', PATH: '/usr/bin:/bin' } },
          );
        } finally {
          closeSync(fd);
          closeSync(leak);
        }
        expect(await exited(p)).toEqual([7, null]);
        expect(p.exitCode).toBe(7);
        const [netns, sid, sigIgn, sigBlk, ...rest] = readFileSync(out, 'utf8').trim().split('\n');
        expect(netns).toBe(`net:[${statSync(`/run/netns/${ns}`).ino}]`);
        expect(netns).not.toBe(readlinkSync('/proc/self/ns/net'));
        expect(Number(sid)).toBe(p.pid);
        // Node ignores SIGPIPE and SIGXFSZ; none of signals 1-31 may stay ignored
        // (glibc keeps two of its own real-time signals out of posix_spawn's reach).
        expect(BigInt(`0x${sigIgn.split(/\s+/)[1]}`) & 0x7fffffffn).toBe(0n);
        expect(sigBlk).toMatch(/^SigBlk:\s+0+$/);
        // ls's own directory fd (3) is the only one above 2.
        expect(rest.slice(0, -1).map(Number)).toEqual([0, 1, 2, 3]);
        expect(rest.at(-1)).toBe('given');
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('in this namespace when none is given; a signal that ends it is reported by name', async () => {
    const p = spawnInNetns('/bin/sleep', ['30'], { env: {} });
    expect(readlinkSync(`/proc/${p.pid}/ns/net`)).toBe(readlinkSync('/proc/self/ns/net'));
    const done = exited(p);
    process.kill(p.pid, 'SIGTERM');
    expect(await done).toEqual([null, 'SIGTERM']);
    expect(p.signalCode).toBe('SIGTERM');
  });

  it('a program that cannot be run, or a namespace that is not one: an error naming it, nothing started', () => {
    const a = (() => {
      try {
        spawnInNetns('/nonexistent/program', [], { env: {} });
      } catch (err) {
        return err as SystemCallError;
      }
    })();
    expect(a).toBeInstanceOf(SystemCallError);
    expect(a).toMatchObject({ code: 'ENOENT' });
    expect(a?.message).toMatch(/^start \/nonexistent\/program: posix_spawn\(\/nonexistent\/program\): No such file or directory/);
    expect(() => spawnInNetns('/bin/true', [], { netns: '/run/netns/eucanet-no-such-ns', env: {} })).toThrow(/eucanet-no-such-ns/);
    expect(() => spawnInNetns('/bin/true', [], { netns: '/etc/hostname', env: {} })).toThrow(/EINVAL|not .*nsfs|namespace/);
  });

  it('ended() reaps a process that has ended at once, its exit emitted before it returns', async () => {
    const p = spawnInNetns('/bin/sh', ['-c', 'exit 5'], { env: {} });
    let heard: number | null | undefined;
    p.once('exit', (code) => (heard = code));
    // A zombie until reaped: wait for /proc to say so, without giving the loop a turn to poll the pidfd.
    const until = Date.now() + 5000;
    while (!/\) Z /.test(readFileSync(`/proc/${p.pid}/stat`, 'utf8')) && Date.now() < until) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
    expect(heard).toBeUndefined();
    expect(p.ended()).toBe(true);
    expect(heard).toBe(5);
    expect(p.exitCode).toBe(5);
  });

  it('close() stops the watch: no exit event comes', async () => {
    const p = spawnInNetns('/bin/sleep', ['30'], { env: {} });
    let heard = false;
    p.once('exit', () => (heard = true));
    p.close();
    process.kill(p.pid, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 100));
    expect(heard).toBe(false);
  });

  it("the parent's memory is not write-protected afterwards, as it is after child_process's fork", async () => {
    // 32 MB written once, then again after each kind of start: the writes
    // after a fork fault once per page (copy-on-write), after posix_spawn not.
    const bufs = Array.from({ length: 32 }, () => Buffer.alloc(1 << 20, 1));
    const touch = () => {
      for (const b of bufs) for (let o = 0; o < b.length; o += 4096) b[o]++;
    };
    const faultsOver = (fn: () => void) => {
      const before = process.resourceUsage().minorPageFault;
      fn();
      return process.resourceUsage().minorPageFault - before;
    };
    touch();
    const ours = spawnInNetns('/bin/true', [], { env: {} });
    await exited(ours);
    const afterSpawn = faultsOver(touch);
    const forked = spawn('/bin/true', [], { stdio: 'ignore' });
    await new Promise((r) => forked.once('exit', r));
    const afterFork = faultsOver(touch);
    // 8192 pages: a fork makes nearly every one fault again. The process's
    // other threads fault meanwhile too (under ASan about 200: its shadow
    // memory), far below a fifth of them.
    const pages = 32 * 256;
    expect(afterFork).toBeGreaterThan(pages * 0.8);
    expect(afterSpawn).toBeLessThan(pages / 5);
  });
});
