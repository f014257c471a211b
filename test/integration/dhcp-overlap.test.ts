// The cluster controller's first DHCP start runs while its network is
// committed (src/managed/apply-dhcp.ts startsFresh): dnsmasq's files are
// written and dnsmasq started before the commit ends, and a commit that fails
// leaves no dnsmasq, no files and no network behind. Real dnsmasq, a fresh
// namespace per test, a state directory of its own.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DhcpServer } from '../../src/dhcp/index.js';
import { allocate } from '../../src/managed/allocate.js';
import { applyRole } from '../../src/managed/apply.js';
import { validateState } from '../../src/managed/validate.js';
import { isRoot, withNetns } from '../helpers/netns.js';

if (!isRoot) console.warn('test/integration/dhcp-overlap.test.ts: skipped, needs root');

const root = new URL('../..', import.meta.url).pathname;
const seed = JSON.parse(readFileSync(join(root, 'examples/seed.json'), 'utf8')) as Record<string, unknown>;

/** The seed with VXLAN segments and `n` more instances (each with a public address): a commit long enough to overlap. */
function cloud(n: number) {
  // The seed's allocations are for blocks of 32: dropped, and allocated again in blocks of 512.
  const groups = (seed.groups as Record<string, unknown>[]).map(({ subnet: _s, vlan: _v, ...g }) => g);
  const instances: object[] = (seed.instances as Record<string, unknown>[]).map(({ privateIp: _p, mac: _m, ...i }) => i);
  for (let k = 0; k < n; k++) instances.push({ id: `i-x${k}`, group: 'admin/default', node: 'nc1' });
  const doc = { ...seed, segmentation: 'vxlan', subnet: '10.1.0.0/16', addrsPerNet: 512, groups, instances };
  return allocate(validateState(structuredClone(doc)));
}

/** A CC namespace (eth0, eth1) and a state directory; afterwards any dnsmasq there is stopped and both removed. */
async function withCc(fn: (ns: string, stateDir: string) => Promise<void>): Promise<void> {
  await withNetns(async (ns) => {
    execFileSync('ip', ['-n', ns, 'link', 'add', 'eth0', 'up', 'type', 'veth', 'peer', 'name', 'eth1']);
    execFileSync('ip', ['-n', ns, 'link', 'set', 'eth1', 'up']);
    const stateDir = mkdtempSync(join(tmpdir(), 'eucanet-dhcp-overlap-'));
    chmodSync(stateDir, 0o755); // dnsmasq reads its files as nobody
    try {
      await fn(ns, stateDir);
    } finally {
      await new DhcpServer({ netns: ns, stateDir }).stop().catch(() => undefined);
      rmSync(stateDir, { recursive: true, force: true });
    }
  }, 'eudo');
}

/** Live dnsmasq processes whose command line names a file under `dir`. */
function dnsmasqsOf(dir: string): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const argv = readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0');
      if (argv.some((a) => a.includes('dnsmasq')) && argv.some((a) => a.includes(dir))) out.push(Number(d));
    } catch {
      // gone
    }
  }
  return out;
}

describe.skipIf(!isRoot)('the CC applying its role: a fresh DHCP start overlaps the commit (root, dnsmasq)', () => {
  it("dnsmasq's files are there before the commit ends, and the result is the same start", async () => {
    await withCc(async (ns, stateDir) => {
      const state = cloud(300);
      const seen: boolean[] = [];
      const r = await applyRole(
        state,
        { role: 'cc' },
        {
          netns: ns,
          dhcpOptions: { stateDir },
          // After each phase of the commit: are dnsmasq's hosts already written?
          onProgress: () => seen.push(existsSync(join(stateDir, 'hosts'))),
        },
      );
      expect(seen.length).toBeGreaterThan(1);
      // Written before the commit's first phase ended: dnsmasq was spawned before the commit began.
      expect(seen.every(Boolean)).toBe(true);
      expect(r.dhcp).toMatchObject({ action: 'start' });
      const pid = r.dhcp!.pid!;
      expect(dnsmasqsOf(stateDir)).toEqual([pid]);
      const hosts = readFileSync(join(stateDir, 'hosts'), 'utf8').split('\n');
      expect(hosts.filter((l) => /^[0-9a-f]{2}(:[0-9a-f]{2}){5},/.test(l)).length).toBe(state.instances.length);
      // It loaded them (its own log says so), and a second apply finds nothing to do.
      expect(readFileSync(join(stateDir, 'dnsmasq.log'), 'utf8')).toContain(`[${pid}]: read ${join(stateDir, 'opts')}`);
      const again = await applyRole(state, { role: 'cc' }, { netns: ns, dhcpOptions: { stateDir } });
      expect(again.dhcp).toMatchObject({ action: 'unchanged', pid });
    });
  }, 60_000);

  it('a commit that fails after dnsmasq was started early leaves no dnsmasq, no files and no network', async () => {
    await withCc(async (ns, stateDir) => {
      const state = cloud(300);
      const before = execFileSync('ip', ['-n', ns, '-j', '-d', 'link', 'show'], { encoding: 'utf8' });
      let calls = 0;
      await expect(
        applyRole(
          state,
          { role: 'cc' },
          {
            netns: ns,
            dhcpOptions: { stateDir },
            onProgress: () => {
              // Fails the commit once dnsmasq's files are written (its start is under way).
              if (existsSync(join(stateDir, 'hosts')) || ++calls > 2) throw new Error('injected: the commit fails here');
            },
          },
        ),
      ).rejects.toThrow(/injected: the commit fails here/);
      expect(dnsmasqsOf(stateDir)).toEqual([]);
      expect(readdirSync(stateDir)).toEqual([]);
      expect(await new DhcpServer({ netns: ns, stateDir }).status()).toMatchObject({ running: false });
      // The network rolled back: the links as before, no eucanet table.
      expect(execFileSync('ip', ['-n', ns, '-j', '-d', 'link', 'show'], { encoding: 'utf8' })).toBe(before);
      expect(execFileSync('ip', ['netns', 'exec', ns, 'nft', '-j', 'list', 'tables'], { encoding: 'utf8' })).not.toContain('eucanet');
    });
  }, 60_000);
});
