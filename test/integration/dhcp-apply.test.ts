// DHCP as part of `eucanet apply --role cc`, through the command line (dist/:
// run `npm run build:ts` first) in a fresh namespace each, with the real
// dnsmasq: planned and checked before the network is touched, idempotent across
// processes, a failure after the network said in one line with exit 1, and
// files and directories made safely whatever the umask. Each test removes its
// namespace, its dnsmasq and its state directory (/run/eucanet/<namespace>).
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  closeSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DhcpServer } from '../../src/dhcp/index.js';
import { allocate } from '../../src/managed/allocate.js';
import { applyRole, downRole } from '../../src/managed/apply.js';
import { validateState } from '../../src/managed/validate.js';
import { isRoot, withNetns } from '../helpers/netns.js';
import { kernelDump } from '../helpers/state.js';

if (!isRoot) console.warn('test/integration/dhcp-apply.test.ts: skipped, needs root');

const root = new URL('../..', import.meta.url).pathname;
const cli = join(root, 'dist/cli/main.js');
// The seed, with VXLAN segments (this kernel has no 802.1Q).
const seed = { ...JSON.parse(readFileSync(join(root, 'examples/seed.json'), 'utf8')), segmentation: 'vxlan' };
type Doc = Record<string, any>;

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** A CC namespace (eth0, eth1) and a state file; afterwards dnsmasq is stopped and everything removed. */
async function withCc(fn: (ns: string, write: (doc: Doc) => string, eucanet: (...args: string[]) => Run, umask?: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'eucanet-dhcp-apply-'));
  try {
    await withNetns(async (ns) => {
      execFileSync('ip', ['-n', ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth1']);
      const write = (doc: Doc) => {
        const f = join(dir, `state-${Math.random().toString(16).slice(2)}.json`);
        writeFileSync(f, JSON.stringify(doc));
        return f;
      };
      const eucanet = (...args: string[]): Run => {
        const [umask, rest] = args[0]?.startsWith('umask=') ? [args[0].slice(6), args.slice(1)] : [undefined, args];
        const cmd = umask !== undefined ? ['sh', '-c', `umask ${umask} && exec "$@"`, 'sh', process.execPath, cli, ...rest] : [process.execPath, cli, ...rest];
        return spawnSync(cmd[0], cmd.slice(1), { encoding: 'utf8' });
      };
      try {
        await fn(ns, write, eucanet);
      } finally {
        await new DhcpServer({ netns: ns }).stop().catch(() => undefined);
        rmSync(`/run/eucanet/${ns}`, { recursive: true, force: true });
      }
    }, 'eudh');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const apply = (state: string, ns: string, ...more: string[]) => ['apply', '--role', 'cc', '--netns', ns, '--state', state, ...more];

/** Lines dnsmasq `pid` logged on reading its options file (at start, and on each SIGHUP). */
const reads = (ns: string, pid: number) =>
  readFileSync(`/run/eucanet/${ns}/dnsmasq/dnsmasq.log`, 'utf8')
    .split('\n')
    .filter((l) => l.includes(`[${pid}]: read /run/eucanet/${ns}/dnsmasq/opts`)).length;

const alive = (pid: number) => existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');

async function waitFor(cond: () => boolean, ms = 3000): Promise<void> {
  for (const until = Date.now() + ms; !cond();) {
    if (Date.now() > until) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe.skipIf(!isRoot)('eucanet apply --role cc: DHCP in the plan (root, dnsmasq)', () => {
  it('a second apply in a new process with the same state sends no SIGHUP ("dhcp unchanged"); a dead dnsmasq is restarted; a pid file naming another process never gets it signalled', async () => {
    await withCc(async (ns, write, eucanet) => {
      const state = write(seed);
      const first = eucanet(...apply(state, ns));
      expect(first.status, first.stderr).toBe(0);
      const pid = Number(/dhcp start \(pid (\d+)\)/.exec(first.stdout)?.[1]);
      expect(alive(pid)).toBe(true);

      const dry = eucanet(...apply(state, ns, '--dry-run'));
      expect(dry.stdout).toContain(
        `# dhcp: unchanged (pid ${pid}): 2 networks, 8 hosts; /run/eucanet/${ns}/dnsmasq: dnsmasq.conf unchanged, hosts unchanged, opts unchanged`,
      );
      const json = JSON.parse(eucanet(...apply(state, ns, '--dry-run', '--json')).stdout);
      expect(json.dhcp).toMatchObject({ action: 'unchanged', pid, plan: { action: 'unchanged', networks: 2, hosts: 8 } });

      const second = eucanet(...apply(state, ns));
      expect(second.stdout).toMatch(new RegExp(`: 0 ops applied in \\d+ ms; dhcp unchanged \\(pid ${pid}\\)\\n$`));
      expect(reads(ns, pid)).toBe(1);

      // A new instance: a reload (SIGHUP, same pid), then unchanged again.
      const more = write({ ...seed, instances: [...seed.instances, { id: 'i-9', group: 'admin/web', node: 'nc2', port: 'vnet9' }] });
      expect(eucanet(...apply(more, ns)).stdout).toContain(`dhcp reload (pid ${pid})`);
      expect(eucanet(...apply(more, ns)).stdout).toContain(`dhcp unchanged (pid ${pid})`);
      expect(reads(ns, pid)).toBe(2);

      // dnsmasq dies: the next apply notices and starts another.
      process.kill(pid, 'SIGKILL');
      await waitFor(() => !alive(pid));
      const again = eucanet(...apply(more, ns));
      const pid2 = Number(/dhcp start \(pid (\d+)\)/.exec(again.stdout)?.[1]);
      expect(pid2).not.toBe(pid);
      expect(alive(pid2)).toBe(true);

      // A pid file naming a live process that is not our dnsmasq: never signalled.
      const seen = join(`/run/eucanet/${ns}`, 'decoy-signals');
      const decoy: ChildProcess = spawn('sh', ['-c', `trap 'echo HUP >> ${seen}' HUP; trap 'echo TERM >> ${seen}' TERM; while :; do sleep 0.05; done`], {
        stdio: 'ignore',
      });
      try {
        await waitFor(() => readFileSync(`/proc/${decoy.pid}/cmdline`, 'utf8').includes('trap'));
        process.kill(pid2, 'SIGKILL');
        await waitFor(() => !alive(pid2));
        writeFileSync(`/run/eucanet/${ns}/dnsmasq/dnsmasq.pid`, `${decoy.pid}\n`);
        const pid3 = Number(/dhcp start \(pid (\d+)\)/.exec(eucanet(...apply(more, ns)).stdout)?.[1]);
        expect(alive(pid3)).toBe(true);
        // The pid file overwritten while dnsmasq runs: it is still found (by its command line), not started twice.
        writeFileSync(`/run/eucanet/${ns}/dnsmasq/dnsmasq.pid`, `${decoy.pid}\n`);
        expect(eucanet(...apply(more, ns, '--dry-run')).stdout).toContain(`# dhcp: unchanged (pid ${pid3})`);
        expect(eucanet(...apply(more, ns)).stdout).toContain(`dhcp unchanged (pid ${pid3})`);
        writeFileSync(`/run/eucanet/${ns}/dnsmasq/dnsmasq.pid`, `${decoy.pid}\n`);
        expect(eucanet('down', '--role', 'cc', '--netns', ns).status).toBe(0);
        await waitFor(() => !alive(pid3));
        await new Promise((r) => setTimeout(r, 200));
        expect(alive(decoy.pid!)).toBe(true);
        expect(existsSync(seen)).toBe(false);
      } finally {
        decoy.kill('SIGKILL');
      }
    });
  }, 60_000);

  it('refuses before the kernel is touched: ids dnsmasq takes as one hostname (i-1, I-1), and a symbolic link planted under /run/eucanet; exit 2, one line naming each', async () => {
    await withCc(async (ns, write, eucanet) => {
      const before = kernelDump(ns);
      const clash = structuredClone(seed);
      clash.instances[1].id = 'I-1';
      const r = eucanet(...apply(write(clash), ns));
      expect(r.status).toBe(2);
      expect(r.stderr.trim().split('\n')).toEqual([
        'eucanet: invalid instances[1].id "I-1": is the same DHCP hostname as instances[0].id "i-1": dnsmasq compares hostnames without case',
      ]);
      expect(kernelDump(ns)).toBe(before);

      const elsewhere = mkdtempSync(join(tmpdir(), 'eucanet-planted-'));
      try {
        mkdirSync('/run/eucanet', { recursive: true, mode: 0o755 });
        symlinkSync(elsewhere, `/run/eucanet/${ns}`);
        const both = eucanet(...apply(write(clash), ns));
        expect(both.status).toBe(2);
        const line = both.stderr.trim().split('\n');
        expect(line).toHaveLength(1);
        expect(line[0]).toMatch(
          /DHCP: 2 problems: invalid instances\[1\]\.id "I-1": .*; invalid stateDir ".*": \/run\/eucanet\/eudh-\w+ is a symbolic link: eucanet does not follow links under \/run\/eucanet/,
        );
        const planted = eucanet(...apply(write(seed), ns));
        expect(planted.status).toBe(2);
        expect(planted.stderr).toContain(`/run/eucanet/${ns} is a symbolic link`);
        // Nothing was made through the link, and the kernel is as it was.
        expect(existsSync(join(elsewhere, 'dnsmasq'))).toBe(false);
        expect(kernelDump(ns)).toBe(before);
      } finally {
        rmSync(`/run/eucanet/${ns}`, { force: true });
        rmSync(elsewhere, { recursive: true, force: true });
      }
    });
  }, 60_000);

  it('dnsmasq failing after the network is applied: one line saying so, exit 1, the network applied and dnsmasq stopped', async () => {
    await withCc(async (ns, write, eucanet) => {
      // Something else holds UDP port 67 in the namespace: dnsmasq cannot bind.
      const holder = spawn(
        'nsenter',
        [
          `--net=/run/netns/${ns}`,
          '--',
          'python3',
          '-c',
          'import socket,time;s=socket.socket(2,2);s.bind(("0.0.0.0",67));print("bound",flush=True);time.sleep(60)',
        ],
        {
          stdio: ['ignore', 'pipe', 'inherit'],
        },
      );
      try {
        await new Promise((resolve) => holder.stdout.once('data', resolve));
        const r = eucanet(...apply(write(seed), ns));
        expect(r.status).toBe(1);
        const lines = r.stderr.trim().split('\n');
        expect(lines).toHaveLength(1);
        expect(lines[0]).toMatch(
          new RegExp(
            `^eucanet: the network is applied \\(\\d+ ops\\) but DHCP failed: dnsmasq \\(pid \\d+\\) exited with code 2 .*; dnsmasq is stopped: no DHCP is served in netns ${ns}; fix this and run apply again`,
          ),
        );
        expect(JSON.parse(execFileSync('ip', ['-n', ns, '-j', 'link', 'show', 'eucabr10'], { encoding: 'utf8' }))[0].ifname).toBe('eucabr10');
        expect(await new DhcpServer({ netns: ns }).status()).toMatchObject({ running: false });
      } finally {
        holder.kill('SIGKILL');
      }
      // Once the port is free, apply brings DHCP up.
      await new Promise((r) => setTimeout(r, 100));
      expect(eucanet(...apply(write(seed), ns)).stdout).toMatch(/dhcp start \(pid \d+\)/);
    });
  }, 60_000);

  it('applyRole with the namespace as a descriptor: the network and dnsmasq both land in it', async () => {
    await withCc(async (ns) => {
      const stateDir = mkdtempSync(join(tmpdir(), 'eucanet-dhcp-fd-'));
      chmodSync(stateDir, 0o755);
      const fd = openSync(`/run/netns/${ns}`, 'r');
      try {
        const state = allocate(validateState(structuredClone(seed)));
        const dry = await applyRole(state, { role: 'cc' }, { netns: fd, dryRun: true, dhcpOptions: { stateDir } });
        expect(dry.dhcp).toMatchObject({ action: 'start', plan: { stateDir, networks: 2, hosts: 8 } });
        expect(existsSync(join(stateDir, 'hosts'))).toBe(false);
        const r = await applyRole(state, { role: 'cc' }, { netns: fd, dhcpOptions: { stateDir } });
        expect(r.dhcp?.action).toBe('start');
        expect(statSync(`/proc/${r.dhcp!.pid}/ns/net`).ino).toBe(statSync(`/run/netns/${ns}`).ino);
        expect(execFileSync('ip', ['-n', ns, '-br', 'link', 'show', 'eucabr10'], { encoding: 'utf8' })).toMatch(/^eucabr10 /);
        const again = await applyRole(state, { role: 'cc' }, { netns: fd, dhcpOptions: { stateDir } });
        expect(again.dhcp).toMatchObject({ action: 'unchanged', pid: r.dhcp!.pid });
        await downRole('cc', { netns: fd, dhcpOptions: { stateDir } });
        expect(alive(r.dhcp!.pid!)).toBe(false);
      } finally {
        await new DhcpServer({ netns: fd, stateDir }).stop().catch(() => undefined);
        closeSync(fd);
        rmSync(stateDir, { recursive: true, force: true });
      }
    });
  }, 60_000);

  for (const umask of ['077', '000']) {
    it(`umask ${umask}: directories 0755, log and leases 0640, hosts readable by dnsmasq's "nobody" (a reload works)`, async () => {
      await withCc(async (ns, write, eucanet) => {
        // As an earlier run under this umask would have left it: eucanet's own directory gets its mode set.
        if (umask === '077') mkdirSync(`/run/eucanet/${ns}`, { recursive: true, mode: 0o700 });
        const r = eucanet(`umask=${umask}`, ...apply(write(seed), ns));
        expect(r.status, r.stderr).toBe(0);
        const d = `/run/eucanet/${ns}/dnsmasq`;
        const mode = (p: string) => (lstatSync(p).mode & 0o7777).toString(8);
        expect([mode(`/run/eucanet/${ns}`), mode(d)]).toEqual(['755', '755']);
        expect([mode(`${d}/dnsmasq.log`), mode(`${d}/leases`)]).toEqual(['640', '640']);
        expect([mode(`${d}/hosts`), mode(`${d}/opts`), mode(`${d}/dnsmasq.conf`)]).toEqual(['644', '644', '644']);
        const more = write({ ...seed, instances: [...seed.instances, { id: 'i-9', group: 'admin/web', node: 'nc2', port: 'vnet9' }] });
        const reload = eucanet(`umask=${umask}`, ...apply(more, ns));
        expect(reload.status, reload.stderr).toBe(0);
        expect(reload.stdout).toMatch(/dhcp reload \(pid \d+\)/);
        expect(statSync(`${d}/leases`).mode & 0o777).toBe(0o640);
      });
    }, 60_000);
  }
});
