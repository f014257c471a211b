// The one writeFileAtomic (src/util/file.ts), used by the state files and the
// DHCP server's state directory: owner and mode kept, a mode forced, symlinks
// followed or replaced.
import { chownSync, lstatSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/cli.js';
import { writeStateFile } from '../../src/dhcp/files.js';
import { writeFileAtomic } from '../../src/util/file.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'eucanet-file-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('writeFileAtomic', () => {
  it("keeps an existing file's mode, owner and group", async () => {
    const p = join(dir, 'state.json');
    writeFileSync(p, 'old', { mode: 0o640 });
    const root = process.getuid?.() === 0;
    if (root) chownSync(p, 65534, 65534);
    await writeFileAtomic(p, 'new');
    const st = statSync(p);
    expect(readFileSync(p, 'utf8')).toBe('new');
    expect(st.mode & 0o7777).toBe(0o640);
    if (root) expect([st.uid, st.gid]).toEqual([65534, 65534]);
  });

  it('a given mode wins over the old file and the umask', async () => {
    const p = join(dir, 'hosts');
    writeFileSync(p, 'old', { mode: 0o600 });
    await writeFileAtomic(p, 'new', { mode: 0o644 });
    expect(statSync(p).mode & 0o7777).toBe(0o644);
  });

  it('writes through a symlink by default, and replaces it with followSymlinks: false', async () => {
    const real = join(dir, 'real');
    writeFileSync(real, 'real');
    const link = join(dir, 'link');
    symlinkSync(real, link);
    await writeFileAtomic(link, 'through');
    expect(readlinkSync(link)).toBe(real);
    expect(readFileSync(real, 'utf8')).toBe('through');
    await writeFileAtomic(link, 'replaced', { followSymlinks: false });
    expect(lstatSync(link).isSymbolicLink()).toBe(false);
    expect(readFileSync(link, 'utf8')).toBe('replaced');
    expect(readFileSync(real, 'utf8')).toBe('through');
  });

  it("the DHCP state directory's writer keeps the owner of a file it rewrites (the copy it replaced did not)", async () => {
    const p = join(dir, 'leases');
    writeFileSync(p, 'old', { mode: 0o600 });
    const root = process.getuid?.() === 0;
    if (root) chownSync(p, 65534, 65534);
    await writeStateFile(p, 'new', 0o600);
    const st = statSync(p);
    expect(st.mode & 0o7777).toBe(0o600);
    if (root) expect([st.uid, st.gid]).toEqual([65534, 65534]);
  });
});

describe('writeFileAtomic on the cold path', () => {
  it('does not load node:crypto (a cold CC writes its DHCP files through it before dnsmasq starts)', () => {
    const p = join(dir, 'hosts');
    const script = `
      const { writeFileAtomic } = await import(${JSON.stringify(join(repoRoot, 'dist/util/file.js'))});
      await writeFileAtomic(${JSON.stringify(p)}, 'x');
      await writeFileAtomic(${JSON.stringify(p)}, 'y');
      process.stdout.write(JSON.stringify(process.moduleLoadList.filter((m) => /crypto/.test(m))));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(readFileSync(p, 'utf8')).toBe('y');
    expect(JSON.parse(r.stdout)).toEqual([]);
  });
});
