// netnsCreate makes /run/netns/NAME, then a thread of its own unshares and
// bind-mounts its namespace there. When that thread cannot start (here: a
// pids cgroup capped at the tasks the process already has, the real kernel
// limit), std::thread throws std::system_error. It used to escape the addon
// (std::terminate: the process aborted) and leave the file behind; now it is
// an EAGAIN error naming what failed, and the file is removed. Needs root and
// the cgroup v1 pids controller (mounted at /sys/fs/cgroup/pids).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freshName, isRoot } from '../helpers/netns.js';

const PIDS = '/sys/fs/cgroup/pids';
const usable = isRoot && existsSync(join(PIDS, 'cgroup.procs'));
if (!usable) console.warn('test/integration/native-netns-thread.test.ts: skipped, needs root and the pids cgroup at /sys/fs/cgroup/pids');

const root = new URL('../..', import.meta.url).pathname;

describe.skipIf(!usable)('netns creation when no thread can start (root, pids cgroup)', () => {
  it('fails with EAGAIN naming the thread, does not abort, and leaves no /run/netns file', () => {
    const name = freshName('eut-thr');
    const cgroup = join(PIDS, name);
    mkdirSync(cgroup);
    try {
      const r = spawnSync(process.execPath, [join(root, 'test/helpers/netns-thread-child.mjs'), join(root, 'dist/index.js'), cgroup, name], {
        encoding: 'utf8',
        timeout: 20_000,
      });
      expect(r.signal, `child died: ${r.stderr}`).toBeNull();
      expect(r.status, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
      expect(out).toMatchObject({ name: 'SystemCallError', code: 'EAGAIN', fileLeft: false });
      expect(out.message).toContain(`netns create ${name}`);
      expect(out.message).toContain('cannot start the thread');
      expect(existsSync(`/run/netns/${name}`)).toBe(false);
    } finally {
      if (existsSync(`/run/netns/${name}`)) unlinkSync(`/run/netns/${name}`);
      rmdirSync(cgroup);
    }
  });
});
