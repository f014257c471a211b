// A node controller's cold `eucanet apply --state` loads only what it uses
// (issue 19, the cold path): not node:crypto (OpenSSL's setup, about 14
// million instructions of a cold process), which only the stores (--etcd)
// need: not the CC either, whose DHCP marker is a fingerprint computed in
// JavaScript (src/util/fingerprint.ts); and not node:child_process (with net
// and dgram, about 7 million), not even the CC, whose dnsmasq the addon
// starts (src/sys/spawn.ts); nor
// node:net (with its stream modules: a pipe's stdio stream, or util/ip.ts's
// isIPv6) nor perf_hooks (the first use of `performance`), nor node:v8 (the
// launcher sets V8's flags through the addon, src/cli/cold-start.ts). Node's own list of
// the internal modules it loaded (process.moduleLoadList) is the oracle, read
// as the process exits, before the hook's own write to stderr builds a stream.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cliPath, eucanet, repoRoot } from '../helpers/cli.js';
import { isRoot, withNetns } from '../helpers/netns.js';

const dir = mkdtempSync(join(tmpdir(), 'eucanet-coldmods-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const hook = join(dir, 'loaded.mjs');
writeFileSync(
  hook,
  "process.on('exit', () => { const l = JSON.stringify(process.moduleLoadList.filter((m) => /crypto|child_process|^NativeModule net$|^NativeModule v8$|perf_hooks/.test(m))); process.stderr.write(`loaded: ${l}\\n`); });\n",
);

// Node's own list of its modules compiled without the code cache it embeds
// for them (its internal `builtins` binding, under --expose-internals: not
// allowed in NODE_OPTIONS, so given on node's command line). After the
// launcher sets V8's flags (cli/cold-start.ts), V8 refuses that cache, whose
// flag hash no longer matches. EUCANET_COLD_PROBE names a module the hook
// loads first, so that the oracle is seen to catch one.
const cacheHook = join(dir, 'no-cache.mjs');
writeFileSync(
  cacheHook,
  [
    "import { createRequire } from 'node:module';",
    'const require = createRequire(import.meta.url);',
    "const { internalBinding } = require('internal/test/binding');",
    "process.on('exit', () => {",
    '  if (process.env.EUCANET_COLD_PROBE) require(process.env.EUCANET_COLD_PROBE);',
    "  const l = [...internalBinding('builtins').getCacheUsage().compiledWithoutCache];",
    '  process.stderr.write(`without cache: ${JSON.stringify(l)}\\n`);',
    '});',
    '',
  ].join('\n'),
);

/** The command line, its Node modules compiled without Node's cache listed on stderr (cacheHook). */
function withoutCache(args: string[], env: NodeJS.ProcessEnv = {}): string[] {
  const r = spawnSync(process.execPath, ['--no-warnings', '--expose-internals', '--import', cacheHook, cliPath, ...args], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, EUCANET_CODE_CACHE: 'off', ...env },
  });
  expect(r.status, r.stderr).toBe(0);
  const line = r.stderr.split('\n').find((l) => l.startsWith('without cache: '));
  expect(line, r.stderr).toBeDefined();
  return JSON.parse(line!.slice('without cache: '.length)) as string[];
}

describe.skipIf(!isRoot)('the cold command line loads what it uses (root)', () => {
  it("compiles none of Node's modules without their cache once V8's flags are set (no node:fs/promises, timers/promises; parseArgs loaded before)", async () => {
    await withNetns(async (ns) => {
      execFileSync('ip', ['-n', ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth1']);
      const seed = join(dir, 'seed-cache.json');
      writeFileSync(seed, readFileSync(join(repoRoot, 'examples/seed.json'), 'utf8').replace('"segmentation": "vlan"', '"segmentation": "vxlan"'));
      const nc = ['apply', '--state', seed, '--role', 'nc', '--node', 'nc1', '--netns', ns];
      // fs.readFile's own helper (internal/fs/read/context) is the one module
      // left: Node loads it at the first readFile, and it is not a module a
      // program can load before.
      const left = (l: string[]) => l.filter((m) => m !== 'internal/fs/read/context');
      expect(left(withoutCache([...nc, '--dry-run']))).toEqual([]);
      expect(left(withoutCache(nc))).toEqual([]);
      // The oracle catches a module first loaded after the flags...
      expect(withoutCache(['--version'], { EUCANET_COLD_PROBE: 'node:stream/promises' })).toContain('stream/promises');
      // ... and without flags there is nothing for it to catch.
      expect(withoutCache(['--version'], { EUCANET_COLD_PROBE: 'node:stream/promises', EUCANET_V8_FLAGS: '' })).toEqual([]);
    }, 'eut-coldc');
  });

  it('apply --role nc from a state file, its dry run and down never load node:crypto, node:child_process, node:net, node:v8 or perf_hooks', async () => {
    await withNetns(async (ns) => {
      execFileSync('ip', ['-n', ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth1']);
      // The seed, with vxlan (this kernel has no 802.1Q).
      const seed = join(dir, 'seed.json');
      writeFileSync(seed, readFileSync(join(repoRoot, 'examples/seed.json'), 'utf8').replace('"segmentation": "vlan"', '"segmentation": "vxlan"'));
      const env = { ...process.env, EUCANET_CODE_CACHE: 'off', NODE_OPTIONS: `--import ${hook}` };
      for (const extra of [['--dry-run'], []]) {
        const r = eucanet(['apply', '--state', seed, '--role', 'nc', '--node', 'nc1', '--netns', ns, ...extra], { env });
        expect(r.status, r.stderr).toBe(0);
        const line = r.stderr.split('\n').find((l) => l.startsWith('loaded: '));
        expect(line, r.stderr).toBeDefined();
        expect(JSON.parse(line!.slice('loaded: '.length))).toEqual([]);
      }
      // Nor its teardown, whose report goes out with write(2) too (cli/stdio.ts), not a stream on this pipe.
      const d = eucanet(['down', '--role', 'nc', '--netns', ns], { env });
      expect(d.status, d.stderr).toBe(0);
      expect(d.stdout).not.toBe('');
      const downLine = d.stderr.split('\n').find((l) => l.startsWith('loaded: '));
      expect(downLine, d.stderr).toBeDefined();
      expect(JSON.parse(downLine!.slice('loaded: '.length))).toEqual([]);
      // The oracle does see crypto when it is loaded: a command that uses it (the file store's lock);
      // and net: that command writes through process.stdout, a stream on this pipe.
      const s = join(dir, 'state.json');
      writeFileSync(s, readFileSync(seed));
      const a = eucanet(['allocate', '--state', s], { env });
      expect(a.status, a.stderr).toBe(0);
      expect(a.stderr).toMatch(/^loaded: \[.*crypto/m);
      expect(a.stderr).toMatch(/^loaded: \[.*"NativeModule net"/m);
    }, 'eut-cold');
  });

  it('apply --role cc from a state file (dnsmasq started, its marker written) never loads node:crypto or node:child_process', async () => {
    await withNetns(async (ns) => {
      execFileSync('ip', ['-n', ns, 'link', 'add', 'eth0', 'up', 'type', 'veth', 'peer', 'name', 'eth1']);
      execFileSync('ip', ['-n', ns, 'link', 'set', 'eth1', 'up']);
      const seed = join(dir, 'seed-cc.json');
      writeFileSync(seed, readFileSync(join(repoRoot, 'examples/seed.json'), 'utf8').replace('"segmentation": "vlan"', '"segmentation": "vxlan"'));
      const env = { ...process.env, EUCANET_CODE_CACHE: 'off', NODE_OPTIONS: `--import ${hook}` };
      const stateDir = `/run/eucanet/${ns}`;
      try {
        const r = eucanet(['apply', '--state', seed, '--role', 'cc', '--netns', ns], { env });
        expect(r.status, r.stderr).toBe(0);
        expect(r.stdout).toMatch(/dhcp start \(pid \d+\)/);
        // The marker says which files dnsmasq confirmed loading.
        expect(readFileSync(`${stateDir}/dnsmasq/loaded`, 'utf8')).toMatch(/^\d+ [0-9a-f]+-[0-9a-f]{16}\n$/);
        const line = r.stderr.split('\n').find((l) => l.startsWith('loaded: '));
        expect(line, r.stderr).toBeDefined();
        // dnsmasq started by the addon, not child_process; no crypto.
        const loaded = JSON.parse(line!.slice('loaded: '.length)) as string[];
        expect(loaded.filter((m) => /crypto|child_process/.test(m))).toEqual([]);
        // A second apply finds the marker matching: dnsmasq is left as it is.
        const again = eucanet(['apply', '--state', seed, '--role', 'cc', '--netns', ns], { env });
        expect(again.status, again.stderr).toBe(0);
        expect(again.stdout).toContain('dhcp unchanged');
      } finally {
        const down = eucanet(['down', '--role', 'cc', '--netns', ns], { env });
        expect(down.status, down.stderr).toBe(0);
        rmSync(stateDir, { recursive: true, force: true });
      }
    }, 'eut-coldcc');
  });
});
