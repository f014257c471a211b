// The command line over etcd: `cloud put` / `cloud get`, the operations with
// --etcd, --if-revision, --cloud, etcd's user and password; bad input exit 2
// with etcd untouched, an unreachable etcd exit 1 naming the URL, quickly.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { eucanetAsync as eucanet } from '../helpers/cli-async.js';
import { withEtcd } from '../helpers/etcd.js';
import { etcdRevision } from '../helpers/etcd-oracle.js';

const dir = mkdtempSync(join(tmpdir(), 'eucanet-etcd-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const seedPath = new URL('../../examples/seed.json', import.meta.url).pathname;
const seed = JSON.parse(readFileSync(seedPath, 'utf8')) as Record<string, unknown>;

interface GetJson {
  cloud: string;
  revision: number;
  state: { groups: { name: string; rules: { from?: number }[] }[]; instances: { id: string; publicIp?: string; privateIp?: string }[]; reservedIps?: string[] };
}

describe('eucanet cloud put/get and the operations with --etcd', () => {
  it('imports a state, runs operations on it, prints it back with its revision', () =>
    withEtcd(async (etcd) => {
      const put = await eucanet(['cloud', 'put', '--etcd', etcd.url, '--state', seedPath, '--json']);
      expect(put.status, put.stderr).toBe(0);
      const rev1 = (JSON.parse(put.stdout) as { revision: number }).revision;
      expect(rev1).toBe(await etcdRevision(etcd.url));

      // Several endpoints: one that is down is passed over.
      const auth = await eucanet([
        'authorize',
        '--etcd',
        `http://127.0.0.1:9,${etcd.url}`,
        'admin/web',
        '--protocol',
        'tcp',
        '--port',
        '8443',
        '--cidr',
        '0.0.0.0/0',
      ]);
      expect(auth.status, auth.stderr).toBe(0);
      expect(auth.stdout).toMatch(/rule added: tcp 8443/);
      const run = await eucanet(['run-instance', '--etcd', etcd.url, '--id', 'i-9', '--group', 'admin/web', '--node', 'nc2', '--public-ip', 'auto', '--json']);
      expect(run.status, run.stderr).toBe(0);
      const ran = JSON.parse(run.stdout) as { version: string; previousVersion: string; retries: number };
      expect(Number(ran.previousVersion)).toBeGreaterThan(rev1);
      const term = await eucanet(['terminate-instance', '--etcd', etcd.url, '--id', 'i-3']);
      expect(term.status, term.stderr).toBe(0);
      const alloc = await eucanet(['allocate-address', '--etcd', etcd.url, '--json']);
      expect(alloc.status, alloc.stderr).toBe(0);

      const get = await eucanet(['cloud', 'get', '--etcd', etcd.url, '--json']);
      expect(get.status, get.stderr).toBe(0);
      const got = JSON.parse(get.stdout) as GetJson;
      expect(got.revision).toBe(await etcdRevision(etcd.url));
      expect(got.state.groups.find((g) => g.name === 'web')?.rules.some((r) => r.from === 8443)).toBe(true);
      expect(got.state.instances.map((i) => i.id)).toContain('i-9');
      expect(got.state.instances.map((i) => i.id)).not.toContain('i-3');
      expect(got.state.reservedIps).toHaveLength(1);
      // Without --json: the state document alone on stdout (a state file), the revision on stderr.
      const plain = await eucanet(['cloud', 'get', '--etcd', etcd.url]);
      expect(JSON.parse(plain.stdout)).toEqual(got.state);
      expect(plain.stderr).toContain(`revision ${got.revision}`);
    }));

  it('--if-revision: a put on an older revision is a conflict (exit 1) and writes nothing; on the current one it lands', () =>
    withEtcd(async (etcd) => {
      const first = await eucanet(['cloud', 'put', '--etcd', etcd.url, '--state', seedPath, '--if-revision', '0', '--json']);
      expect(first.status, first.stderr).toBe(0);
      const rev = (JSON.parse(first.stdout) as { revision: number }).revision;
      const again = await eucanet(['cloud', 'put', '--etcd', etcd.url, '--state', seedPath, '--if-revision', '0']);
      expect(again.status).toBe(1);
      expect(again.stderr).toMatch(/changed by another writer/);
      await eucanet(['create-group', '--etcd', etcd.url, 'bob/db']);
      const now = await etcdRevision(etcd.url);
      const stale = await eucanet(['cloud', 'put', '--etcd', etcd.url, '--state', seedPath, '--if-revision', String(rev)]);
      expect(stale.status).toBe(1);
      expect(stale.stderr).toContain(`expected version ${rev}, found ${now}`);
      expect(await etcdRevision(etcd.url)).toBe(now);
      const current = await eucanet(['cloud', 'put', '--etcd', etcd.url, '--state', seedPath, '--if-revision', String(now), '--json']);
      expect(current.status, current.stderr).toBe(0);
      // The put removed bob/db again: only that key went (and the deleted marker).
      const got = JSON.parse((await eucanet(['cloud', 'get', '--etcd', etcd.url, '--json'])).stdout) as GetJson;
      expect(got.state.groups.map((g) => g.name)).toEqual(['default', 'web']);
    }));

  it('bad input is exit 2 naming the field or option, etcd untouched', () =>
    withEtcd(async (etcd) => {
      expect((await eucanet(['cloud', 'put', '--etcd', etcd.url, '--state', seedPath])).status).toBe(0);
      const before = await etcdRevision(etcd.url);
      const bad = join(dir, 'bad.json');
      writeFileSync(bad, JSON.stringify({ ...seed, addrsPerNet: 7 }));
      const cases: [string[], RegExp][] = [
        [['cloud', 'put', '--etcd', etcd.url, '--state', bad], /addrsPerNet/],
        [['run-instance', '--etcd', etcd.url, '--id', 'i-1', '--group', 'admin/web', '--node', 'nc1'], /i-1/],
        [['run-instance', '--etcd', etcd.url, '--id', 'i-x', '--group', 'admin/nope', '--node', 'nc1'], /admin\/nope/],
        [['authorize', '--etcd', etcd.url, '--state', seedPath, 'admin/web', '--protocol', 'tcp', '--cidr', '0.0.0.0/0'], /--state and --etcd/],
        [['authorize', 'admin/web', '--protocol', 'tcp', '--cidr', '0.0.0.0/0'], /missing --state FILE or --etcd URL/],
        [['authorize', '--etcd', 'localhost', 'admin/web', '--protocol', 'tcp', '--cidr', '0.0.0.0/0'], /invalid --etcd "localhost"/],
        [['authorize', '--etcd', etcd.url, '--cloud', 'a/b', 'admin/web', '--protocol', 'tcp', '--cidr', '0.0.0.0/0'], /invalid --cloud "a\/b"/],
        [['authorize', '--state', seedPath, '--cloud', 'x', 'admin/web', '--protocol', 'tcp', '--cidr', '0.0.0.0/0'], /--cloud works only with --etcd/],
        [['cloud', 'put', '--etcd', etcd.url, '--state', seedPath, '--if-revision', 'latest'], /invalid --if-revision "latest"/],
        [['cloud', 'get', '--etcd', etcd.url, '--cloud', 'other'], /no state/],
        [['cloud', 'put', '--state', seedPath], /needs --etcd/],
      ];
      for (const [args, message] of cases) {
        const r = await eucanet(args);
        expect(r.status, `${args.join(' ')}: ${r.stderr}`).toBe(2);
        expect(r.stderr.split('\n')[0]).toMatch(message);
      }
      expect(await etcdRevision(etcd.url)).toBe(before);
    }));

  it('--cloud keeps clouds apart in one etcd', () =>
    withEtcd(async (etcd) => {
      expect((await eucanet(['cloud', 'put', '--etcd', etcd.url, '--cloud', 'east', '--state', seedPath])).status).toBe(0);
      expect((await eucanet(['create-group', '--etcd', etcd.url, '--cloud', 'east', 'bob/db'])).status).toBe(0);
      const east = JSON.parse((await eucanet(['cloud', 'get', '--etcd', etcd.url, '--cloud', 'east', '--json'])).stdout) as GetJson;
      expect(east.cloud).toBe('east');
      expect(east.state.groups.map((g) => g.name)).toContain('db');
      expect((await eucanet(['cloud', 'get', '--etcd', etcd.url])).status).toBe(2);
    }));

  it('an unreachable etcd: exit 1 naming the URL, within seconds', async () => {
    const t0 = Date.now();
    const r = await eucanet(['authorize', '--etcd', 'http://127.0.0.1:9', '--etcd-timeout', '2', 'admin/web', '--protocol', 'tcp', '--cidr', '0.0.0.0/0']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^eucanet: etcd http:\/\/127\.0\.0\.1:9: .*unreachable/);
    expect(Date.now() - t0).toBeLessThan(10_000);
  });

  it("etcd's user and password: from a file or $EUCANET_ETCD_PASSWORD, never on the command line; a wrong one is exit 1", () =>
    withEtcd(async (etcd) => {
      // Authentication on, through etcd's JSON gateway: a root user with the root role.
      const call = async (path: string, body: unknown) => {
        const res = await fetch(`${etcd.url}/v3/auth/${path}`, { method: 'POST', body: JSON.stringify(body) });
        expect(res.ok, `${path}: ${await res.clone().text()}`).toBe(true);
      };
      await call('user/add', { name: 'root', password: 's3cret' });
      await call('role/add', { name: 'root' });
      await call('user/grant', { user: 'root', role: 'root' });
      await call('enable', {});
      const pwFile = join(dir, 'etcd-password');
      writeFileSync(pwFile, 's3cret\n', { mode: 0o600 });
      const put = await eucanet(['cloud', 'put', '--etcd', etcd.url, '--etcd-user', 'root', '--etcd-password-file', pwFile, '--state', seedPath]);
      expect(put.status, put.stderr).toBe(0);
      const env = { ...process.env, EUCANET_ETCD_PASSWORD: 's3cret' };
      const get = await eucanet(['cloud', 'get', '--etcd', etcd.url, '--etcd-user', 'root', '--json'], { env });
      expect(get.status, get.stderr).toBe(0);
      // No user: etcd refuses; a wrong password: refused too; both a failure naming etcd (exit 1).
      const anonymous = await eucanet(['cloud', 'get', '--etcd', etcd.url]);
      expect(anonymous.status).toBe(1);
      expect(anonymous.stderr).toContain(`etcd ${etcd.url}`);
      const wrong = await eucanet(['cloud', 'get', '--etcd', etcd.url, '--etcd-user', 'root'], { env: { ...process.env, EUCANET_ETCD_PASSWORD: 'nope' } });
      expect(wrong.status).toBe(1);
      expect(wrong.stderr).toMatch(/authentication failed|invalid/i);
      const noPassword = await eucanet(['cloud', 'get', '--etcd', etcd.url, '--etcd-user', 'root'], {
        env: { ...process.env, EUCANET_ETCD_PASSWORD: undefined },
      });
      expect(noPassword.status).toBe(2);
      expect(noPassword.stderr).toMatch(/--etcd-password-file FILE or the environment variable EUCANET_ETCD_PASSWORD/);
    }));
});
