// `eucanet agent --role cc` as a process (root, dnsmasq): dnsmasq outlives the
// agent (SIGTERM leaves it serving), a restarted agent adopts it (same pid, no
// reload, no op), and a dnsmasq that dies is restarted by the agent and
// counted in /metrics.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DhcpServer } from '../../src/dhcp/index.js';
import { writeFileAtomic } from '../../src/util/file.js';
import { AgentProcess } from '../helpers/agent-process.js';
import { repoRoot } from '../helpers/cli.js';
import { isRoot, withNetns } from '../helpers/netns.js';

if (!isRoot) console.warn('test/integration/agent-cc.test.ts: skipped, needs root');

const dir = mkdtempSync(join(tmpdir(), 'eucanet-agent-cc-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const seed = { ...JSON.parse(readFileSync(join(repoRoot, 'examples/seed.json'), 'utf8')), segmentation: 'vxlan' };

const alive = (pid: number) => existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');

describe.skipIf(!isRoot)('eucanet agent on a cluster controller: dnsmasq (root)', () => {
  it('dnsmasq outlives the agent, is adopted by the next one, and is restarted when it dies', async () => {
    const file = join(dir, 'cloud.json');
    await writeFileAtomic(file, JSON.stringify(seed));
    const agents: AgentProcess[] = [];
    await withNetns(async (ns) => {
      try {
        execFileSync('ip', ['-n', ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth1']);
        const args = ['--role', 'cc', '--netns', ns, '--state', file];
        const a = AgentProcess.start(args);
        agents.push(a);
        const first = await a.waitFor((l) => l.event === 'sync');
        expect(first).toMatchObject({ trigger: 'start', result: 'ok', dhcp: 'start' });
        const pid = first.dnsmasqPid as number;
        expect(alive(pid)).toBe(true);
        expect((await a.stop('SIGTERM')).code).toBe(0);
        expect(alive(pid)).toBe(true);

        const b = AgentProcess.start([...args, '--metrics', '127.0.0.1:0']);
        agents.push(b);
        const adopted = await b.waitFor((l) => l.event === 'sync');
        expect(adopted).toMatchObject({ trigger: 'start', result: 'ok', ops: 0, dhcp: 'unchanged', dnsmasqPid: pid });
        const url = (await b.waitFor((l) => l.event === 'metrics')).url as string;

        const t0 = Date.now();
        process.kill(pid, 'SIGKILL');
        const gone = await b.waitFor((l) => l.event === 'dnsmasq-exit');
        expect(gone.pid).toBe(pid);
        const again = await b.waitFor((l) => l.event === 'sync' && l.trigger === 'dnsmasq');
        const ms = Date.now() - t0;
        expect(again).toMatchObject({ result: 'ok', ops: 0, dhcp: 'start' });
        expect(again.dnsmasqPid).not.toBe(pid);
        expect(alive(again.dnsmasqPid)).toBe(true);
        const m = await (await fetch(url)).text();
        expect(m).toMatch(/^eucanet_agent_dnsmasq_restarts_total 1$/m);
        expect(m).toMatch(/^eucanet_agent_syncs_total\{trigger="dnsmasq",result="ok"\} 1$/m);
        console.log(`dnsmasq killed -> restarted by the agent in ${ms} ms`);
        expect((await b.stop('SIGTERM')).code).toBe(0);
        expect(alive(again.dnsmasqPid)).toBe(true);
      } finally {
        await Promise.all(agents.map((x) => x.kill()));
        await new DhcpServer({ netns: ns }).stop().catch(() => undefined);
        rmSync(`/run/eucanet/${ns}`, { recursive: true, force: true });
      }
    }, 'euagc');
  }, 60_000);
});
