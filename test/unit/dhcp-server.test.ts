// DhcpServer's supervision logic against fake dnsmasq scripts (no root, no
// namespace): start, SIGHUP reload, restart, attach from a second object,
// stop, early exit with the log's last lines, timeouts, missing programs.
// test/integration/dhcp-server.test.ts runs the real dnsmasq.
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DhcpError, DhcpServer, DhcpValidationError, type DhcpNetwork, type ExitInfo } from '../../src/dhcp/index.js';
import { dhcpServerFor } from '../../src/managed/apply.js';

// Behaves like `dnsmasq -k --conf-file=F` as far as DhcpServer can tell: writes
// its pid file, logs "read <file>" for the hosts and options files at start and
// on SIGHUP, exits on SIGTERM.
const FAKE = `#!/bin/sh
for a in "$@"; do case "$a" in --conf-file=*) conf="\${a#--conf-file=}" ;; esac; done
get() { sed -n "s/^$1=//p" "$conf"; }
hosts=$(get dhcp-hostsfile); opts=$(get dhcp-optsfile); pidf=$(get pid-file)
MODE
echo $$ > "$pidf"
echo "dnsmasq[$$]: started, version fake DNS disabled" >&2
readall() { echo "dnsmasq-dhcp[$$]: read $hosts" >&2; echo "dnsmasq-dhcp[$$]: read $opts" >&2; }
readall
trap readall HUP
trap 'echo "dnsmasq[$$]: exiting on receipt of SIGTERM" >&2; exit 0' TERM
while :; do sleep 0.02; done
`;

const MODES = {
  ok: '',
  badConfig: 'echo "dnsmasq: bad command line options: bad dhcp-range" >&2; exit 1',
  silent: 'trap "exit 0" TERM; while :; do sleep 0.02; done',
  unreadable: 'echo "dnsmasq[$$]: cannot read $hosts: Permission denied" >&2; trap "exit 0" TERM; while :; do sleep 0.02; done',
};

let dir: string;
const servers: DhcpServer[] = [];

function fake(mode: keyof typeof MODES): string {
  const p = join(dir, `dnsmasq-${mode}`);
  writeFileSync(p, FAKE.replace('MODE', MODES[mode]), { mode: 0o755 });
  return p;
}

function server(mode: keyof typeof MODES = 'ok', extra: Record<string, unknown> = {}): DhcpServer {
  const s = new DhcpServer({ stateDir: join(dir, 'state'), dnsmasqPath: fake(mode), readyTimeoutMs: 3000, ...extra });
  servers.push(s);
  return s;
}

const net = (hosts: Array<[string, string]>, extra: Partial<DhcpNetwork> = {}): DhcpNetwork => ({
  interface: 'eucabr10',
  subnet: '10.1.2.0/27',
  gateway: '10.1.2.1',
  hosts: hosts.map(([mac, ip]) => ({ mac, ip })),
  ...extra,
});

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');
  } catch {
    return false;
  }
};

async function rejection(p: Promise<unknown>): Promise<DhcpError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(DhcpError);
    return err as DhcpError;
  }
  throw new Error('expected a DhcpError');
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'eucanet-dhcp-unit-'));
  chmodSync(dir, 0o755);
});

afterEach(async () => {
  for (const s of servers.splice(0)) await s.stop().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

describe('DhcpServer (fake dnsmasq)', () => {
  it('starts, reloads with SIGHUP keeping the pid, skips unchanged updates, restarts when the main config changes, stops', async () => {
    const s = server();
    const a = await s.update([net([['d0:0d:0a:01:02:02', '10.1.2.2']])]);
    expect(a.action).toBe('start');
    const pid = a.pid!;
    expect(alive(pid)).toBe(true);
    expect(readFileSync(s.paths.pid, 'utf8').trim()).toBe(String(pid));
    expect(readFileSync(s.paths.hosts, 'utf8')).toContain('d0:0d:0a:01:02:02,10.1.2.2\n');
    expect(await s.status()).toMatchObject({ running: true, pid, supervised: true });

    expect(await s.update([net([['d0:0d:0a:01:02:02', '10.1.2.2']])])).toEqual({ action: 'unchanged', pid });

    const reads = () => s.logTail(1000).filter((l) => l.includes(`[${pid}]: read ${s.paths.opts}`)).length;
    expect(reads()).toBe(1);
    const b = await s.update([
      net(
        [
          ['d0:0d:0a:01:02:02', '10.1.2.2'],
          ['d0:0d:0a:01:02:03', '10.1.2.3'],
        ],
        { dns: ['8.8.8.8'] },
      ),
    ]);
    expect(b).toEqual({ action: 'reload', pid });
    expect(reads()).toBe(2);
    expect(readFileSync(s.paths.hosts, 'utf8')).toContain('d0:0d:0a:01:02:03,10.1.2.3\n');
    expect(readFileSync(s.paths.opts, 'utf8')).toContain('option:dns-server,8.8.8.8\n');

    const c = await s.update([
      net(
        [
          ['d0:0d:0a:01:02:02', '10.1.2.2'],
          ['d0:0d:0a:01:02:03', '10.1.2.3'],
        ],
        { dns: ['8.8.8.8'] },
      ),
      net([], { interface: 'eucabr11', subnet: '10.1.2.32/27', gateway: '10.1.2.33' }),
    ]);
    expect(c).toMatchObject({ action: 'restart', previousPid: pid, reason: expect.stringMatching(/main configuration changed/) });
    expect(c.pid).not.toBe(pid);
    expect(alive(pid)).toBe(false);
    expect(readFileSync(s.paths.config, 'utf8')).toContain('interface=eucabr11\n');

    expect(await s.stop()).toEqual({ stopped: true, pid: c.pid, signal: 'SIGTERM' });
    expect(alive(c.pid!)).toBe(false);
    expect(existsSync(s.paths.pid)).toBe(false);
    expect(await s.status()).toMatchObject({ running: false, supervised: false });
    expect(await s.stop()).toEqual({ stopped: false });
  });

  it('a second object (a later eucanet run) attaches through the pid file, and reloads only when the files on disk change', async () => {
    const first = server();
    const { pid } = await first.update([net([['d0:0d:0a:01:02:02', '10.1.2.2']])]);
    const second = server();
    expect(await second.attach()).toBe(pid);
    expect(await second.status()).toMatchObject({ running: true, pid, supervised: false });
    // What the running dnsmasq loaded is judged from the files on disk (and the
    // marker written when dnsmasq confirmed reading them), not from memory: no SIGHUP.
    const reads = () => second.logTail(1000).filter((l) => l.includes(`[${pid}]: read ${second.paths.opts}`)).length;
    expect(await second.update([net([['d0:0d:0a:01:02:02', '10.1.2.2']])])).toEqual({ action: 'unchanged', pid });
    expect(reads()).toBe(1);
    expect((await second.plan([net([['d0:0d:0a:01:02:02', '10.1.2.2']])])).action).toBe('unchanged');
    // A change is a reload, and a third object then finds that unchanged too.
    expect(await second.update([net([['d0:0d:0a:01:02:03', '10.1.2.3']])])).toEqual({ action: 'reload', pid });
    expect(await server().update([net([['d0:0d:0a:01:02:03', '10.1.2.3']])])).toEqual({ action: 'unchanged', pid });
    expect(reads()).toBe(2);
    expect(await second.stop()).toMatchObject({ stopped: true, pid });
    expect(alive(pid!)).toBe(false);
    expect(await first.status()).toMatchObject({ running: false });
  });

  it('does not trust a pid file whose process is not our dnsmasq', async () => {
    const s = server();
    await s.update([net([])]);
    await s.stop();
    writeFileSync(s.paths.pid, `${process.pid}\n`); // alive, but node, not dnsmasq
    expect(await s.attach()).toBeUndefined();
    writeFileSync(s.paths.pid, '999999999\n');
    expect(await s.attach()).toBeUndefined();
    // The same fake, started with another config file, is not ours either.
    const other = new DhcpServer({ stateDir: join(dir, 'other'), dnsmasqPath: join(dir, 'dnsmasq-ok') });
    servers.push(other);
    const { pid } = await other.update([net([])]);
    writeFileSync(s.paths.pid, `${pid}\n`);
    expect(await s.attach()).toBeUndefined();
  });

  it('restarts, pruning the stale lease, when an address goes to a new MAC while the old lease is live', async () => {
    const s = server();
    const { pid } = await s.update([
      net([
        ['d0:0d:0a:01:02:02', '10.1.2.2'],
        ['d0:0d:0a:01:02:03', '10.1.2.3'],
      ]),
    ]);
    const expiry = Math.floor(Date.now() / 1000) + 3600;
    writeFileSync(s.paths.leases, `${expiry} d0:0d:0a:01:02:02 10.1.2.2 * *\n${expiry} d0:0d:0a:01:02:03 10.1.2.3 * *\n`);
    const r = await s.update([
      net([
        ['d0:0d:0a:01:02:99', '10.1.2.2'],
        ['d0:0d:0a:01:02:03', '10.1.2.3'],
      ]),
    ]);
    expect(r).toMatchObject({
      action: 'restart',
      previousPid: pid,
      reason: expect.stringMatching(/10\.1\.2\.2 is given to a new MAC but d0:0d:0a:01:02:02 still holds a lease/),
    });
    expect(readFileSync(s.paths.leases, 'utf8')).toBe(`${expiry} d0:0d:0a:01:02:03 10.1.2.3 * *\n`);
    // Removing a host is only a reload: its lease just runs out.
    expect((await s.update([net([['d0:0d:0a:01:02:99', '10.1.2.2']])])).action).toBe('reload');
  });

  it('no networks: stops the server', async () => {
    const s = server();
    const { pid } = await s.update([net([])]);
    expect(await s.update([])).toEqual({ action: 'stopped', previousPid: pid });
    expect(alive(pid!)).toBe(false);
    expect(await s.update([])).toEqual({ action: 'unchanged' });
  });

  it('emits exit when dnsmasq dies unasked, and the next update starts a new one', async () => {
    const s = server();
    const { pid } = await s.update([net([])]);
    const exited = new Promise<ExitInfo>((resolve) => s.once('exit', resolve));
    process.kill(pid!, 'SIGKILL');
    const info = await exited;
    expect(info).toMatchObject({ pid, code: null, signal: 'SIGKILL' });
    expect(info.logTail.join('\n')).toContain(`dnsmasq-dhcp[${pid}]: read`);
    expect(await s.status()).toMatchObject({ running: false, lastExit: { pid } });
    const again = await s.update([net([])]);
    expect(again.action).toBe('start');
    expect(again.pid).not.toBe(pid);
  });

  it('early exit: a clear error with the exit code, its meaning and the last log lines', async () => {
    const err = await rejection(server('badConfig').update([net([])]));
    expect(err.code).toBe('EXITED');
    expect(err.exitCode).toBe(1);
    expect(err.message).toMatch(/exited with code 1 \(a problem with its configuration\) while starting/);
    expect(err.logTail).toEqual(['dnsmasq: bad command line options: bad dhcp-range']);
    expect(err.message).toContain('bad dhcp-range');
  });

  it('never ready: times out, and stops what it started', async () => {
    const s = server('silent', { readyTimeoutMs: 300 });
    const err = await rejection(s.update([net([])]));
    expect(err.code).toBe('ETIMEDOUT');
    expect(alive(err.pid!)).toBe(false);
  });

  it('files unreadable by dnsmasq: says so', async () => {
    const s = server('unreadable');
    const err = await rejection(s.update([net([])]));
    expect(err.code).toBe('EACCES');
    expect(err.message).toMatch(/user "nobody"/);
    expect(err.logTail.join('\n')).toContain('Permission denied');
    expect(alive(err.pid!)).toBe(false);
  });

  it('a state directory others cannot search is refused before dnsmasq starts', async () => {
    const locked = join(dir, 'locked');
    const s = new DhcpServer({ stateDir: join(locked, 'state'), dnsmasqPath: fake('ok') });
    servers.push(s);
    await s.update([]).catch(() => undefined); // creates the directories
    chmodSync(locked, 0o700);
    const err = await rejection(s.update([net([])]));
    expect(err.code).toBe('ESTATEDIR');
    expect(err.message).toContain(`${locked} is not searchable by others`);
  });

  it('a symbolic link planted in the state directory is refused, never followed; log and leases are 0640', async () => {
    const s = server();
    const { pid } = await s.update([net([['d0:0d:0a:01:02:02', '10.1.2.2']])]);
    expect([statSync(s.paths.log).mode & 0o777, statSync(s.paths.leases).mode & 0o777]).toEqual([0o640, 0o640]);
    await s.stop();
    const victim = join(dir, 'victim');
    writeFileSync(victim, 'precious\n', { mode: 0o600 });
    rmSync(s.paths.log);
    symlinkSync(victim, s.paths.log);
    const err = await rejection(s.update([net([['d0:0d:0a:01:02:02', '10.1.2.2']])]));
    expect(err.code).toBe('ESTATEDIR');
    expect(err.message).toContain(`${s.paths.log} is a symbolic link`);
    const planned = await s.plan([net([['d0:0d:0a:01:02:02', '10.1.2.2']])]).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(planned).toBeInstanceOf(DhcpValidationError);
    expect((planned as Error).message).toContain(`${s.paths.log} is a symbolic link`);
    expect(readFileSync(victim, 'utf8')).toBe('precious\n');
    expect(statSync(victim).mode & 0o777).toBe(0o600);
    expect(alive(pid!)).toBe(false);
  });

  it("a state directory under a planted symbolic link is refused (the link is eucanet's own path)", async () => {
    const s = new DhcpServer({ stateDir: join(dir, 'real'), dnsmasqPath: fake('ok') });
    servers.push(s);
    symlinkSync(join(dir, 'elsewhere'), join(dir, 'real'));
    const err = await rejection(s.update([net([])]));
    expect(err.message).toContain(`${join(dir, 'real')} is a symbolic link`);
    expect(existsSync(join(dir, 'elsewhere'))).toBe(false);
  });

  it('plan() changes nothing and names every problem at once', async () => {
    const locked = join(dir, 'locked');
    mkdirSync(locked, { mode: 0o700 });
    chmodSync(locked, 0o700);
    const s = new DhcpServer({ netns: 'eucanet-no-such-ns', stateDir: join(locked, 'state'), dnsmasqPath: '/nonexistent/dnsmasq' });
    const err = await s.plan([net([['d0:0d:0a:01:02:02', '10.1.2.2']], { gateway: '10.1.2.99' })]).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DhcpValidationError);
    const problems = (err as DhcpValidationError).problems.map((p) => p.field);
    expect(problems).toEqual(['networks[0].gateway', 'stateDir']);
    // With good networks, the namespace and dnsmasq are checked too.
    const err2 = (await s.plan([net([['d0:0d:0a:01:02:02', '10.1.2.2']])]).catch((e: unknown) => e)) as DhcpValidationError;
    expect(err2.problems.map((p) => p.field)).toEqual(['netns', 'stateDir', 'dnsmasq']);
    expect(err2.message).toMatch(
      /^DHCP: 3 problems: invalid netns "eucanet-no-such-ns": \/run\/netns\/eucanet-no-such-ns: ENOENT: no such network namespace; invalid stateDir .* is not searchable by others.*; invalid dnsmasq .*dnsmasq-base/,
    );
    expect(existsSync(join(locked, 'state'))).toBe(false);
  });

  it('plan() of a fresh directory: start, every file created; nothing written', async () => {
    const s = server();
    const p = await s.plan([net([['d0:0d:0a:01:02:02', '10.1.2.2']])]);
    expect(p).toMatchObject({ action: 'start', networks: 1, hosts: 1, stateDir: s.paths.dir });
    expect(p.files.map((f) => f.change)).toEqual(['create', 'create', 'create']);
    expect(existsSync(s.paths.dir)).toBe(false);
  });

  it('dnsmasq missing: names the Debian package; nsenter is not used any more', async () => {
    const a = await rejection(new DhcpServer({ stateDir: join(dir, 's1'), dnsmasqPath: '/nonexistent/dnsmasq' }).update([net([])]));
    expect(a).toMatchObject({ code: 'ENOTINSTALLED', package: 'dnsmasq-base' });
    expect(a.message).toMatch(/dnsmasq is not installed: \/nonexistent\/dnsmasq not found\. Install the Debian package dnsmasq-base/);
    // The deprecated option is accepted and changes nothing: dnsmasq starts without nsenter.
    const s = server('ok', { stateDir: join(dir, 's2'), nsenterPath: '/nonexistent/nsenter' });
    const r = await s.update([net([['d0:0d:0a:01:02:02', '10.1.2.2']])]);
    expect(r.action).toBe('start');
    expect(readFileSync(`/proc/${String(r.pid)}/cmdline`, 'utf8').split('\0')).toContain('--keep-in-foreground');
  });

  it('a namespace that does not exist: says so before starting anything', async () => {
    const s = new DhcpServer({ netns: 'eucanet-no-such-ns', stateDir: join(dir, 's3'), dnsmasqPath: fake('ok') });
    const err = await rejection(s.update([net([])]));
    expect(err.code).toBe('ENOENT');
    expect(err.message).toContain('/run/netns/eucanet-no-such-ns does not exist');
  });

  it("dhcpServerFor (applyRole's) keeps a namespace given as a descriptor or a path", () => {
    const fd = openSync('/proc/self/ns/net', 'r');
    try {
      const ino = statSync('/proc/self/ns/net').ino;
      expect(dhcpServerFor(fd)).toMatchObject({ netns: fd, paths: { dir: `/run/eucanet/netns-${ino}/dnsmasq` } });
      expect(dhcpServerFor('/proc/self/ns/net')).toMatchObject({ netns: '/proc/self/ns/net', paths: { dir: `/run/eucanet/netns-${ino}/dnsmasq` } });
      expect(dhcpServerFor('cc', { stateDir: join(dir, 'x') }).paths.dir).toBe(join(dir, 'x'));
    } finally {
      closeSync(fd);
    }
  });

  it('runs one operation at a time', async () => {
    const s = server();
    const results = await Promise.all([
      s.update([net([['d0:0d:0a:01:02:02', '10.1.2.2']])]),
      s.update([net([['d0:0d:0a:01:02:03', '10.1.2.3']])]),
      s.update([net([['d0:0d:0a:01:02:04', '10.1.2.4']])]),
    ]);
    expect(results.map((r) => r.action)).toEqual(['start', 'reload', 'reload']);
    expect(new Set(results.map((r) => r.pid)).size).toBe(1);
    expect(readFileSync(s.paths.hosts, 'utf8')).toContain('d0:0d:0a:01:02:04,10.1.2.4\n');
  });
});
