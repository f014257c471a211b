// bench/lib/at-exit.mjs: what a benchmark registers runs however its process
// ends, SIGINT and SIGTERM included once exitOnSignals() is called, newest
// first; a task forgotten (the thing removed already) does not run. Each case
// is a real Node process stopped by a real signal.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const helper = new URL('../../bench/lib/at-exit.mjs', import.meta.url).pathname;
let dir = '';
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = '';
});

/**
 * Starts a process that registers three tasks (each appends its name to a
 * file), forgets the second, prints "ready" and waits; `signal` stops it.
 * Resolves with its exit status and what the tasks wrote.
 */
function run(signal: NodeJS.Signals | undefined, signals: boolean): Promise<{ code: number | null; sig: NodeJS.Signals | null; wrote: string }> {
  dir = mkdtempSync(join(tmpdir(), 'eucanet-atexit-'));
  const out = join(dir, 'out');
  const script = `
    import { appendFileSync } from 'node:fs';
    const { atExit, exitOnSignals } = await import(${JSON.stringify(helper)});
    if (${signals}) exitOnSignals();
    atExit(() => appendFileSync(${JSON.stringify(out)}, 'first '));
    const forget = atExit(() => appendFileSync(${JSON.stringify(out)}, 'forgotten '));
    atExit(() => appendFileSync(${JSON.stringify(out)}, 'last '));
    forget();
    console.log('ready');
    ${signal ? 'setInterval(() => {}, 1000);' : ''}
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve) => {
    child.stdout.once('data', () => {
      if (signal) child.kill(signal);
    });
    child.once('exit', (code, sig) => {
      let wrote = '';
      try {
        wrote = readFileSync(out, 'utf8');
      } catch {
        // nothing written
      }
      resolve({ code, sig, wrote });
    });
  });
}

describe('bench at-exit', () => {
  it('runs the tasks newest first at a normal end, not the forgotten one', async () => {
    const r = await run(undefined, false);
    expect(r.code).toBe(0);
    expect(r.wrote).toBe('last first ');
  });

  it.each(['SIGINT', 'SIGTERM'] as const)('runs them when %s stops the process, which exits 130', async (signal) => {
    const r = await run(signal, true);
    expect(r.code).toBe(130);
    expect(r.wrote).toBe('last first ');
  });

  it("without exitOnSignals(), Node's default for SIGTERM ends the process without them", async () => {
    const r = await run('SIGTERM', false);
    expect(r.sig).toBe('SIGTERM');
    expect(r.wrote).toBe('');
  });
});
