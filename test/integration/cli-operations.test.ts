// The cloud's operations as commands on a state file (issue 16): what each
// prints and writes, --dry-run and bad input leaving the file byte for byte,
// many processes writing at once with nothing lost, and a writer SIGKILLed
// while holding the lock not wedging the store. No root: files only.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Instance, State } from '../../src/managed/types.js';
import { FileStore, contentVersion } from '../../src/store/file.js';
import { cliPath, eucanet, repoRoot, type CliRun } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'eucanet-ops-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const seedText = readFileSync(join(repoRoot, 'examples/seed.json'), 'utf8');
let n = 0;
function stateFile(): string {
  const p = join(dir, `cloud-${n++}.json`);
  writeFileSync(p, seedText);
  return p;
}
const load = (p: string): State => JSON.parse(readFileSync(p, 'utf8')) as State;

/** `eucanet ARGS` as a child process, not waiting: many run at once. */
function eucanetAsync(args: string[]): Promise<CliRun> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [cliPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    c.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    c.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

describe('the operations on a state file', () => {
  it('create-group, authorize, run-instance, allocate- and associate-address: one line each, the file rewritten', () => {
    const p = stateFile();
    const lines = [
      ['create-group', '--state', p, 'bob/db'],
      ['authorize', '--state', p, 'bob/db', '--protocol', 'tcp', '--port', '5432', '--source-group', 'admin/web'],
      ['run-instance', '--state', p, '--id', 'i-9', '--group', 'bob/db', '--node', 'nc2'],
      ['allocate-address', '--state', p],
      ['associate-address', '--state', p, '--ip', '192.168.32.202', '--instance', 'i-9'],
    ].map((args) => {
      const r = eucanet(args);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      return r.stdout.replace(/ \(version [0-9a-f]{16}\)\n$/, '');
    });
    expect(lines).toEqual([
      `${p}: group bob/db added: vlan 12, subnet 10.1.1.64/27`,
      `${p}: group bob/db: rule added: tcp 5432 from admin/web`,
      `${p}: instance i-9 added: group bob/db, node nc2, port vnet4, privateIp 10.1.1.66, mac d0:0d:0a:01:01:42`,
      `${p}: address 192.168.32.202 allocated`,
      `${p}: address 192.168.32.202 associated with instance i-9`,
    ]);
    const s = load(p);
    expect(s.groups?.at(-1)).toEqual({
      owner: 'bob',
      name: 'db',
      vlan: 12,
      subnet: '10.1.1.64/27',
      rules: [{ protocol: 'tcp', from: 5432, sourceGroup: 'admin/web' }],
    });
    expect(s.instances?.at(-1)).toEqual({
      id: 'i-9',
      group: 'bob/db',
      node: 'nc2',
      port: 'vnet4',
      privateIp: '10.1.1.66',
      mac: 'd0:0d:0a:01:01:42',
      publicIp: '192.168.32.202',
    });
    expect(s.reservedIps).toEqual([]);
    // The rest of the document as written, its allocations made explicit.
    expect(s.$schema).toBe('../schema/state.schema.json');
    expect(s.instances?.[1].publicIp).toBe('192.168.32.201');
  });

  it('--json prints the changes, the new version (the hash of the file) and the version it ran on', () => {
    const p = stateFile();
    const r = eucanet(['run-instance', '--state', p, '--id', 'i-9', '--group', 'admin/web', '--node', 'nc1', '--public-ip', 'auto', '--json']);
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(out).toEqual({
      state: p,
      dryRun: false,
      changes: [
        {
          kind: 'instance-added',
          id: 'i-9',
          group: 'admin/web',
          node: 'nc1',
          port: 'vnet4',
          privateIp: '10.1.1.38',
          mac: 'd0:0d:0a:01:01:26',
          publicIp: '192.168.32.202',
        },
      ],
      version: contentVersion(readFileSync(p)),
      previousVersion: contentVersion(seedText),
      retries: 0,
    });
  });

  it('--dry-run prints what would change and leaves the file byte for byte', () => {
    const p = stateFile();
    const r = eucanet(['revoke', '--state', p, 'admin/default', '--protocol', 'tcp', '--port', '22', '--cidr', '0.0.0.0/0', '--dry-run']);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`${p}: would be: group admin/default: rule removed: tcp 22 from 0.0.0.0/0 (dry run: not written)\n`);
    expect(readFileSync(p, 'utf8')).toBe(seedText);
    const j = JSON.parse(eucanet(['allocate-address', '--state', p, '--dry-run', '--json']).stdout) as { dryRun: boolean; version: string; changes: unknown[] };
    expect(j).toMatchObject({ dryRun: true, version: contentVersion(seedText), changes: [{ kind: 'address-allocated', ip: '192.168.32.202' }] });
    expect(readFileSync(p, 'utf8')).toBe(seedText);
  });

  it.each<[string, string[], string]>([
    [
      'unknown group',
      ['run-instance', '--id', 'i-9', '--group', 'admin/nope', '--node', 'nc1'],
      'eucanet: invalid group "admin/nope": no such group (known: admin/default, admin/web)',
    ],
    [
      'unknown node',
      ['run-instance', '--id', 'i-9', '--group', 'admin/web', '--node', 'nc9'],
      'eucanet: invalid node "nc9": no such node in the cloud (known: nc1, nc2)',
    ],
    [
      'taken id',
      ['run-instance', '--id', 'i-1', '--group', 'admin/web', '--node', 'nc1'],
      'eucanet: invalid id "i-1": an instance with this id already exists',
    ],
    [
      'public address taken',
      ['run-instance', '--id', 'i-9', '--group', 'admin/web', '--node', 'nc1', '--public-ip', '192.168.32.200'],
      'eucanet: invalid publicIp "192.168.32.200": is taken: held by instance i-1',
    ],
    [
      'public address outside the pool',
      ['run-instance', '--id', 'i-9', '--group', 'admin/web', '--node', 'nc1', '--public-ip', '10.0.0.5'],
      'eucanet: invalid publicIp "10.0.0.5": is not in the public pool (publicIps: 192.168.32.200-192.168.32.250)',
    ],
    ['unknown instance', ['terminate-instance', '--id', 'i-77'], 'eucanet: invalid instance "i-77": no such instance'],
    ['group exists', ['create-group', 'admin/web'], 'eucanet: invalid group "admin/web": already exists'],
    ['group in use', ['delete-group', 'admin/web'], 'eucanet: invalid group "admin/web": still has instances: i-3, i-4, i-7, i-8'],
    [
      'duplicate rule',
      ['authorize', 'admin/web', '--protocol', 'tcp', '--port', '80', '--cidr', '0.0.0.0/0'],
      'eucanet: invalid rule {"protocol":"tcp","from":80,"cidr":"0.0.0.0/0"}: group admin/web already has this rule (tcp 80 from 0.0.0.0/0)',
    ],
    [
      'no such rule',
      ['revoke', 'admin/web', '--protocol', 'udp', '--port', '80', '--cidr', '0.0.0.0/0'],
      'eucanet: invalid rule {"protocol":"udp","from":80,"cidr":"0.0.0.0/0"}: group admin/web has no such rule',
    ],
    [
      'bad port',
      ['authorize', 'admin/web', '--protocol', 'tcp', '--port', '70000', '--cidr', '0.0.0.0/0'],
      'eucanet: invalid --port "70000": expected a whole number 0-65535',
    ],
    [
      'bad protocol',
      ['authorize', 'admin/web', '--protocol', 'sctp', '--cidr', '0.0.0.0/0'],
      'eucanet: invalid --protocol "sctp": expected tcp, udp, icmp or a protocol number 0-255',
    ],
    [
      'port with icmp',
      ['authorize', 'admin/web', '--protocol', 'icmp', '--port', '22', '--cidr', '0.0.0.0/0'],
      'eucanet: invalid --port "22": ports apply to tcp and udp only, not icmp',
    ],
    ['bad cidr', ['authorize', 'admin/web', '--protocol', 'tcp', '--cidr', '10.0.0.0/40'], 'eucanet: invalid --cidr "10.0.0.0/40"'],
    [
      'two sources',
      ['authorize', 'admin/web', '--protocol', 'tcp', '--cidr', '0.0.0.0/0', '--source-group', 'admin/default'],
      'eucanet: give exactly one source: --cidr CIDR or --source-group OWNER/NAME',
    ],
    ['no group word', ['delete-group'], 'eucanet: missing the group OWNER/NAME'],
    [
      'address not allocated',
      ['associate-address', '--ip', '192.168.32.230', '--instance', 'i-3'],
      'eucanet: invalid ip "192.168.32.230": is not allocated (allocate-address first)',
    ],
    [
      'address still associated',
      ['release-address', '--ip', '192.168.32.200'],
      'eucanet: invalid ip "192.168.32.200": is still associated with instance i-1 (disassociate-address first)',
    ],
    ['not an address', ['disassociate-address', '--ip', 'nope'], 'eucanet: invalid ip "nope"'],
    ['missing option', ['run-instance', '--id', 'i-9'], 'eucanet: missing --group OWNER/NAME, --node NODE'],
  ])('bad input (%s): exit 2, the field named, the file untouched', (_what, args, first) => {
    const p = stateFile();
    const [cmd, ...rest] = args;
    const r = eucanet([cmd, '--state', p, ...rest]);
    expect(r.status).toBe(2);
    expect(r.stderr.split('\n')[0].startsWith(first), r.stderr).toBe(true);
    expect(r.stdout).toBe('');
    expect(readFileSync(p, 'utf8')).toBe(seedText);
    expect(existsSync(`${p}.lock`)).toBe(false);
  });

  it('a state file that does not validate is bad input, named, and left as it was', () => {
    const p = stateFile();
    const bad = seedText.replace('"addrsPerNet": 32', '"addrsPerNet": 33');
    writeFileSync(p, bad);
    const r = eucanet(['create-group', '--state', p, 'bob/db']);
    expect(r.status).toBe(2);
    expect(r.stderr.split('\n')[0]).toMatch(/^eucanet: invalid addrsPerNet 33: /);
    expect(readFileSync(p, 'utf8')).toBe(bad);
  });

  it('a missing state file is bad input, and nothing is created', () => {
    const p = join(dir, 'absent.json');
    const r = eucanet(['allocate-address', '--state', p]);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(`eucanet: invalid --state "${p}": no such file\n`);
    expect(existsSync(p)).toBe(false);
  });
});

describe('many writers at once (processes), nothing lost', () => {
  it('20 authorize processes with different rules: all 20 rules land', async () => {
    const p = stateFile();
    const runs = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        eucanetAsync(['authorize', '--state', p, 'admin/web', '--protocol', 'tcp', '--port', String(9000 + i), '--cidr', '0.0.0.0/0', '--json']),
      ),
    );
    for (const r of runs) expect(r.stderr).toBe('');
    const rules = load(p).groups?.find((g) => g.name === 'web')?.rules ?? [];
    expect(rules.map((r) => r.from).sort((a, b) => (a ?? 0) - (b ?? 0))).toEqual([80, ...Array.from({ length: 20 }, (_, i) => 9000 + i)]);
    const retries = runs.map((r) => (JSON.parse(r.stdout) as { retries: number }).retries);
    console.log(`20 authorize processes: conflicts retried ${retries.reduce((a, b) => a + b, 0)} in all, at most ${Math.max(...retries)} by one`);
  }, 120_000);

  it('20 run-instance processes get 20 distinct private addresses, MACs and ports', async () => {
    const p = stateFile();
    const runs = await Promise.all(
      Array.from({ length: 20 }, (_, i) => eucanetAsync(['run-instance', '--state', p, '--id', `r-${i}`, '--group', 'admin/web', '--node', 'nc1'])),
    );
    for (const r of runs) expect([r.status, r.stderr]).toEqual([0, '']);
    const made = (load(p).instances ?? []).filter((i) => i.id.startsWith('r-')) as Array<Required<Pick<Instance, 'privateIp' | 'mac' | 'port'>>>;
    expect(made).toHaveLength(20);
    for (const key of ['privateIp', 'mac', 'port'] as const) expect(new Set(made.map((i) => i[key])).size).toBe(20);
    const all = load(p).instances ?? [];
    expect(new Set(all.map((i) => i.privateIp)).size).toBe(all.length);
  }, 120_000);

  it("a watch of the file sees the writes of other processes, and its last version is the file's", async () => {
    const p = stateFile();
    const store = new FileStore(p);
    const it = store.watch({ since: contentVersion(seedText) });
    const seen: string[] = [];
    const reading = (async () => {
      for await (const v of it) seen.push(v);
    })();
    await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        eucanetAsync(['authorize', '--state', p, 'admin/web', '--protocol', 'tcp', '--port', String(7000 + i), '--cidr', '0.0.0.0/0']),
      ),
    );
    const final = contentVersion(readFileSync(p));
    for (const end = Date.now() + 3000; seen.at(-1) !== final && Date.now() < end;) await new Promise((r) => setTimeout(r, 20));
    await store.close();
    await reading;
    expect(seen.at(-1)).toBe(final);
    expect(new Set(seen).size).toBe(seen.length); // each version once
  }, 120_000);

  it('10 allocate-address processes get 10 distinct addresses, all kept', async () => {
    const p = stateFile();
    const runs = await Promise.all(Array.from({ length: 10 }, () => eucanetAsync(['allocate-address', '--state', p, '--json'])));
    const ips = runs.map((r) => (JSON.parse(r.stdout) as { changes: Array<{ ip: string }> }).changes[0].ip);
    expect(new Set(ips).size).toBe(10);
    expect([...(load(p).reservedIps ?? [])].sort()).toEqual([...ips].sort());
  }, 120_000);
});

/** A process that takes the state file's lock and holds it until killed. */
async function holdLock(p: string): Promise<ChildProcess> {
  const lockUrl = new URL('../../dist/store/lock.js', import.meta.url).href;
  const script = `import { acquireLock } from ${JSON.stringify(lockUrl)}; await acquireLock(${JSON.stringify(`${p}.lock`)}); console.log('held'); setInterval(() => {}, 1000);`;
  const holder = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve) => holder.stdout?.on('data', (d: Buffer) => d.toString().includes('held') && resolve()));
  return holder;
}

describe('a writer killed while holding the lock', () => {
  it('writers wait while the holder lives, and all go on at once after it is SIGKILLed, nothing lost', async () => {
    const p = stateFile();
    const holder = await holdLock(p);
    // Ten writers wait for it; when it dies they all find it stale at once, and one breaks it.
    let done = 0;
    const writers = Array.from({ length: 10 }, (_, i) =>
      eucanetAsync(['authorize', '--state', p, 'admin/web', '--protocol', 'udp', '--port', String(5300 + i), '--cidr', '10.0.0.0/8']).then((r) => {
        done++;
        return r;
      }),
    );
    await new Promise((r) => setTimeout(r, 2500));
    expect(done).toBe(0); // waiting for the live holder
    expect(readFileSync(p, 'utf8')).toBe(seedText);
    const killedAt = Date.now();
    holder.kill('SIGKILL');
    const runs = await Promise.all(writers);
    const ms = Date.now() - killedAt;
    for (const r of runs) expect([r.status, r.stderr]).toEqual([0, '']);
    expect(ms).toBeLessThan(9000); // the lock timeout is 10 s: they did not wait it out
    console.log(`stale lock (holder SIGKILLed): 10 waiting writers all done ${ms} ms after the kill`);
    const rules = load(p).groups?.find((g) => g.name === 'web')?.rules ?? [];
    expect(rules.filter((r) => r.protocol === 'udp').map((r) => r.from)).toHaveLength(10);
    expect(new Set(rules.map((r) => r.from)).size).toBe(11);
    expect(existsSync(`${p}.lock`)).toBe(false);
  }, 60_000);
});

describe('eucanet allocate and the operations share the lock', () => {
  it('allocate waits for the lock, and then writes over the version it read, not an older one', async () => {
    const p = stateFile();
    const holder = await holdLock(p);
    let done = false;
    const alloc = eucanetAsync(['allocate', '--state', p]).then((r) => ((done = true), r));
    await new Promise((r) => setTimeout(r, 1500));
    expect(done).toBe(false);
    expect(readFileSync(p, 'utf8')).toBe(seedText);
    holder.kill('SIGKILL');
    const r = await alloc;
    expect([r.status, r.stderr]).toEqual([0, '']);
    expect(load(p).instances?.[1].publicIp).toBe('192.168.32.201');
  }, 60_000);
});
