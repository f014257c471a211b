// `eucanet agent` collects V8's young generation when it goes idle after a
// sync (src/agent/idle-gc.ts, the Agent's onIdle), so that the next sync does
// not meet that collection half-way. Seen from outside with node's
// --trace-gc: a scavenge asked for by the program (V8 says "testing") follows
// each sync, and none runs while nothing happens.
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

describe.skipIf(!isRoot)('eucanet agent: a young-generation collection when idle after a sync (root)', () => {
  it('follows the start and each new version, and none runs while nothing happens', async () => {
    const file = join(dir, 'cloud.json');
    await writeFileAtomic(file, JSON.stringify(seed));
    const store = new FileStore(file);
    await withNetns(async (ns) => {
      nsExec(ns, 'ip', ['link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth9']);
      const a = AgentProcess.start(['--role', 'nc', '--node', 'nc1', '--netns', ns, '--state', file, '--resync', '0'], { nodeFlags: ['--trace-gc'] });
      try {
        expect(await a.waitFor((l) => l.event === 'sync')).toMatchObject({ result: 'ok', trigger: 'start' });
        await a.waitFor((l) => l.event === 'text' && /Scavenge.*testing/.test(String(l.text)));
        await sleep(1500); // the warm-up, and its own collection
        const quiet = a.lines.length;
        await sleep(1500);
        expect(forced(a, quiet), 'none while nothing happens').toBe(0);
        const from = a.lines.length;
        const r = await update(store, (s) => authorize(s, 'admin/web', { protocol: 'tcp', from: 2345, to: 2345, cidr: '0.0.0.0/0' }));
        await a.waitFor((l) => l.event === 'sync' && l.version === r.version, 15_000, from);
        await a.waitFor((l) => l.event === 'text' && /Scavenge.*testing/.test(String(l.text)), 5000, from);
      } finally {
        await a.stop();
        await a.kill();
      }
    }, 'eugc');
    await store.close();
  }, 30_000);
});
