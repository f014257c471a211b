// `eucanet agent` collects V8's young generation when it goes idle after a
// sync (src/agent/idle-gc.ts, the Agent's onIdle) that left it a quarter
// used or more (and 2 MiB), so that the next sync does not meet that
// collection half-way. Seen from outside with node's --trace-gc: a scavenge
// asked for by the program (V8 says "testing") runs neither while nothing
// happens nor after a small version (an authorize of a small cloud: it
// allocated little, a scavenge would cost CPU for nothing). That one runs past
// both is test/unit/idle-gc.test.ts's.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { authorize } from '../../src/managed/ops/index.js';
import { FileStore } from '../../src/store/file.js';
import { update } from '../../src/store/update.js';
import { writeFileAtomic } from '../../src/util/file.js';
import { AgentProcess } from '../helpers/agent-process.js';
import { repoRoot } from '../helpers/cli.js';
import { isRoot, nsExec, withNetns } from '../helpers/netns.js';

if (!isRoot) console.warn('test/integration/agent-idle-gc.test.ts: skipped, needs root');

const dir = mkdtempSync(join(tmpdir(), 'eucanet-agent-gc-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const seed = { ...JSON.parse(readFileSync(join(repoRoot, 'examples/seed.json'), 'utf8')), segmentation: 'vxlan' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const forced = (a: AgentProcess, from = 0) => a.lines.slice(from).filter((l) => l.event === 'text' && /Scavenge.*testing/.test(String(l.text))).length;

/** An agent of `file` in a throw-away netns with node's `flags`: the forced scavenges after its start, while quiet, and after an authorize. */
async function forcedScavenges(file: string, store: FileStore, flags: string[], port: number): Promise<{ start: number; quiet: number; version: number }> {
  return withNetns(async (ns) => {
    nsExec(ns, 'ip', ['link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth9']);
    const a = AgentProcess.start(['--role', 'nc', '--node', 'nc1', '--netns', ns, '--state', file, '--resync', '0'], { nodeFlags: ['--trace-gc', ...flags] });
    try {
      expect(await a.waitFor((l) => l.event === 'sync')).toMatchObject({ result: 'ok', trigger: 'start' });
      await a.waitFor((l) => l.event === 'warmed-up');
      await sleep(1000); // the warm-up's own collection
      const start = forced(a);
      const quiet = a.lines.length;
      await sleep(1500);
      const during = forced(a, quiet);
      const from = a.lines.length;
      const r = await update(store, (s) => authorize(s, 'admin/web', { protocol: 'tcp', from: port, to: port, cidr: '0.0.0.0/0' }));
      await a.waitFor((l) => l.event === 'sync' && l.version === r.version, 15_000, from);
      await sleep(1000);
      return { start, quiet: during, version: forced(a, from) };
    } finally {
      await a.stop();
      await a.kill();
    }
  }, 'eugc');
}

describe.skipIf(!isRoot)('eucanet agent: a young-generation collection when idle after a sync (root)', () => {
  it('none after a small version (the young generation left far from a quarter used), none while nothing happens', async () => {
    const file = join(dir, 'cloud.json');
    await writeFileAtomic(file, JSON.stringify(seed));
    const store = new FileStore(file);
    try {
      const got = await forcedScavenges(file, store, [], 2346);
      expect(got.quiet, 'none while nothing happens').toBe(0);
      expect(got.version, 'none after a small version').toBe(0);
    } finally {
      await store.close();
    }
  }, 60_000);
});
