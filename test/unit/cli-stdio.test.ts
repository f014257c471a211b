// The command line's output without Node's stdio streams (src/cli/stdio.ts):
// whatever the descriptor, every byte arrives, in order. A non-blocking pipe
// whose reader is slow refuses a plain write (EAGAIN) part way: the rest then
// goes through the stream, after what was written.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/cli.js';

// tsc's output for the module (it imports only node:fs), as an ES module of its
// own: dist/cli/ is a CommonJS scope (the bundle's launcher).
const dir = mkdtempSync(join(tmpdir(), 'eucanet-stdio-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const stdio = join(dir, 'stdio.mjs');
copyFileSync(join(repoRoot, 'dist/cli/stdio.js'), stdio);

/** A child writing `lines` numbered lines with writeOut (then one with process.stdout, then writeOut again), stdout read by a shell pipeline. */
function run(lines: number, pipeline: string): string {
  const script = [
    `import { writeOut, writeErr, streamsMade } from ${JSON.stringify(stdio)};`,
    `for (let i = 0; i < ${lines}; i++) writeOut('line ' + i + ' ' + 'x'.repeat(200) + '\\n');`,
    `process.stdout.write('through the stream\\n');`,
    `writeOut('after the stream\\n');`,
    `writeErr('streams: ' + streamsMade().length + '\\n');`,
  ].join('\n');
  const r = spawnSync('sh', ['-c', `${JSON.stringify(process.execPath)} --input-type=module -e "$SCRIPT" ${pipeline}`], {
    encoding: 'utf8',
    env: { ...process.env, SCRIPT: script },
    maxBuffer: 1 << 26,
  });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout;
}

function expectAll(out: string, lines: number): void {
  const got = out.split('\n');
  expect(got.length).toBe(lines + 3);
  for (let i = 0; i < lines; i++) expect(got[i]).toBe(`line ${i} ${'x'.repeat(200)}`);
  expect(got.slice(lines)).toEqual(['through the stream', 'after the stream', '']);
}

describe('cli stdio: plain writes, the stream as fallback', () => {
  it('a blocking pipe (a shell pipeline) gets every line, in order, past the pipe buffer', () => {
    expectAll(run(2000, '| cat'), 2000);
  });

  it('a non-blocking pipe with a slow reader: EAGAIN hands the rest to the stream, nothing lost or reordered', () => {
    // python3 makes the pipe non-blocking on the writer's side and starts reading only after a pause.
    const py = [
      'import os,fcntl,subprocess,sys,time',
      'r,w=os.pipe()',
      'fcntl.fcntl(w,fcntl.F_SETFL,fcntl.fcntl(w,fcntl.F_GETFL)|os.O_NONBLOCK)',
      'p=subprocess.Popen(sys.argv[1:],stdout=w)',
      'os.close(w)',
      'time.sleep(0.3)',
      'f=os.fdopen(r,"rb")',
      'sys.stdout.buffer.write(f.read())',
      'sys.exit(p.wait())',
    ].join(';');
    const script = [
      `import { writeOut } from ${JSON.stringify(stdio)};`,
      `for (let i = 0; i < 2000; i++) writeOut('line ' + i + ' ' + 'x'.repeat(200) + '\\n');`,
      `process.stdout.write('through the stream\\n');`,
      `writeOut('after the stream\\n');`,
    ].join('\n');
    const r = spawnSync('python3', ['-c', py, process.execPath, '--input-type=module', '-e', script], { encoding: 'utf8', maxBuffer: 1 << 26 });
    expect(r.status, r.stderr).toBe(0);
    expectAll(r.stdout, 2000);
  });

  it('no stream is built when nothing touched one', () => {
    const r = spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import { writeOut, streamsMade } from ${JSON.stringify(stdio)}; writeOut('hi\\n'); writeOut(String(streamsMade().length) + '\\n');`,
      ],
      {
        encoding: 'utf8',
      },
    );
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('hi\n0\n');
  });
});
