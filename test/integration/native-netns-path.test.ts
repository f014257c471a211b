// A namespace given by path (or fd) must be a network namespace file: the
// addon opens the path non-blocking and checks it is nsfs and CLONE_NEWNET
// before setns. A FIFO, a device, a regular file, a directory and another kind
// of namespace each give an error naming the path and what it is instead,
// quickly, from every entry point that enters a namespace (rtnetlink and
// nftables sockets, sysctl files, tap jobs, checkNetns). The attempts run in a child
// process with a timeout, so a call that blocks (a FIFO opened for reading
// waits for a writer) fails the test instead of hanging it.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ipLinks, isRoot, withNetns } from '../helpers/netns.js';

if (!isRoot) console.warn('test/integration/native-netns-path.test.ts: skipped, needs root');

const root = new URL('../..', import.meta.url).pathname;
const child = join(root, 'test/helpers/netns-path-child.mjs');
const WAYS = ['rtnetlink socket', 'nftables socket', 'sysctl', 'check', 'tap create', 'tap delete'];

interface Attempt {
  given: string;
  way: string;
  ok: boolean;
  ms: number;
  code?: string;
  message?: string;
}

function attempt(paths: string[]): Attempt[] {
  const r = spawnSync(process.execPath, [child, join(root, 'dist/index.js'), ...paths], { encoding: 'utf8', timeout: 15_000 });
  expect(r.signal, `the child hung (killed by the timeout); it printed:\n${r.stdout}${r.stderr}`).toBeNull();
  expect(r.status, r.stderr).toBe(0);
  return r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Attempt);
}

describe.skipIf(!isRoot)('--netns given as a path (root)', () => {
  it('a FIFO, /dev/null, a regular file, a directory, a uts namespace and a FIFO fd are refused at once, naming the path', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'eucanet-nspath-'));
    try {
      const fifo = join(dir, 'fifo');
      expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
      const file = join(dir, 'file');
      writeFileSync(file, 'not a namespace\n');
      const cases: Array<[string, string]> = [
        [fifo, `netns ${fifo} is not a network namespace (it is a FIFO`],
        ['/dev/null', 'netns /dev/null is not a network namespace (it is a character device'],
        [file, `netns ${file} is not a network namespace (it is a regular file`],
        [dir, `netns ${dir} is not a network namespace (it is a directory`],
        ['/proc/self/ns/uts', 'netns /proc/self/ns/uts is not a network namespace (it is a uts namespace)'],
        [`fd:${fifo}`, 'is not a network namespace (it is a FIFO'],
      ];
      const results = attempt(cases.map(([p]) => p));
      expect(results).toHaveLength(cases.length * WAYS.length);
      for (const [given, text] of cases) {
        for (const way of WAYS) {
          const a = results.find((x) => x.given === given && x.way === way)!;
          expect(a.ok, `${way} ${given}`).toBe(false);
          expect(a.message, `${way} ${given}`).toContain(text);
          expect(a.message, `${way} ${given}`).toContain('Invalid argument');
          expect(a.ms, `${way} ${given}: took ${a.ms} ms`).toBeLessThan(2000);
        }
      }
      // The library's errors carry the errno's name.
      for (const a of results.filter((x) => x.way !== 'tap create' && x.way !== 'tap delete')) expect(a.code).toBe('EINVAL');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);

  it('the command line, given a FIFO, a device or a missing name as --netns, answers at once: bad input (2), one line naming it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'eucanet-nspath-'));
    try {
      const fifo = join(dir, 'fifo');
      expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
      const cases: Array<[string[], string, string]> = [
        [['show'], fifo, `invalid --netns "${fifo}": netns ${fifo} is not a network namespace (it is a FIFO`],
        [['down', '--role', 'nc'], '/dev/null', 'invalid --netns "/dev/null": netns /dev/null is not a network namespace (it is a character device'],
        [
          ['apply', '--state', join(root, 'examples/seed.json'), '--role', 'cc'],
          'eut-no-such-ns',
          'invalid --netns "eut-no-such-ns": no such network namespace (ENOENT)',
        ],
      ];
      for (const [cmd, netns, message] of cases) {
        const r = spawnSync(process.execPath, [join(root, 'dist/cli/main.js'), ...cmd, '--netns', netns], { encoding: 'utf8', timeout: 15_000 });
        expect(r.signal, 'the command line hung').toBeNull();
        expect(r.status, r.stderr).toBe(2);
        expect(r.stderr.trim().split('\n')).toHaveLength(1);
        expect(r.stderr).toContain(message);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);

  it('a missing path names the path; a real namespace path works from every entry point', async () => {
    await withNetns(async (ns) => {
      const path = `/run/netns/${ns}`;
      const missing = `/run/netns/${ns}-nosuch`;
      const results = attempt([missing, path]);
      for (const a of results.filter((x) => x.given === missing)) {
        expect(a.ok, a.way).toBe(false);
        expect(a.message, a.way).toContain(`netns ${missing}: No such file or directory`);
      }
      for (const a of results.filter((x) => x.given === path)) expect(a, a.way).toMatchObject({ ok: true });
      // The tap was made (and removed) inside that namespace, nowhere else.
      expect(ipLinks(ns).map((l) => l.ifname)).toEqual(['lo']);
    });
  }, 30_000);
});
