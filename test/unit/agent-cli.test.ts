// `eucanet agent`'s bad input, without root: each refused with exit 2 naming
// the option and its value, before anything is opened or started.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseListen } from '../../src/agent/metrics.js';
import { eucanet } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'eucanet-agent-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const state = join(dir, 'cloud.json');
writeFileSync(state, '{}');

describe('eucanet agent: bad input', () => {
  it.each([
    [['--role', 'nc', '--state', state], '--node NAME (with --role nc)'],
    [['--role', 'cc', '--state', state, '--resync', 'soon'], 'invalid --resync "soon"'],
    [['--role', 'cc', '--state', state, '--resync', '-1'], 'invalid --resync "-1"'],
    [['--role', 'cc', '--state', state, '--metrics', 'localhost'], 'invalid --metrics "localhost"'],
    [['--role', 'cc', '--state', state, '--metrics', '127.0.0.1:70000'], 'invalid --metrics "127.0.0.1:70000"'],
    [['--role', 'cc', '--state', join(dir, 'none.json')], `invalid --state "${join(dir, 'none.json')}": no such file`],
    [['--role', 'cc', '--state', dir], 'is a directory'],
  ])('%j is refused with exit 2 naming the option', (args, message) => {
    const r = eucanet(['agent', ...args]);
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toContain(message);
    expect(r.stdout).toBe('');
  });
});

describe('parseListen', () => {
  it('takes HOST:PORT, [IPv6]:PORT and :PORT', () => {
    expect(parseListen('127.0.0.1:9464')).toEqual({ host: '127.0.0.1', port: 9464 });
    expect(parseListen('[::1]:0')).toEqual({ host: '::1', port: 0 });
    expect(parseListen(':9464')).toEqual({ port: 9464 });
  });
});
