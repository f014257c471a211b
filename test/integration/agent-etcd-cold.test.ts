// An agent's cold start on etcd (issue 17: within 1.5x of `apply`): what it
// loads before its first sync is published. The built CLI runs with a
// --require hook that writes, on stderr, when each of the big client packages
// (@grpc/grpc-js, etcd3, prom-client) is first required; the status the
// agent puts after its first sync says when that sync ended (syncAt, the same
// clock). The first read and the first statuses go over the lean channel
// (unary gRPC on node:http2), so none of those packages may load before the
// first sync has ended (or, for a first sync slower than that, 2 s after the
// start, when the store's watch starts anyway); etcd3 (and with it grpc-js)
// loads after it, for the kept-alive lease; prom-client not at all without
// --metrics.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EtcdStore } from '../../src/store/etcd.js';
import { StatusWatch } from '../../src/store/etcd-status-watch.js';
import { readCloudStatus, type HostStatus } from '../../src/store/etcd-status.js';
import { AgentProcess } from '../helpers/agent-process.js';
import { repoRoot } from '../helpers/cli.js';
import { withEtcd } from '../helpers/etcd.js';
import { isRoot, withNetns } from '../helpers/netns.js';

const seed = { ...JSON.parse(readFileSync(join(repoRoot, 'examples/seed.json'), 'utf8')), segmentation: 'vxlan' };
const WATCHED = ['@grpc/grpc-js', 'etcd3', 'prom-client'];

/** A --require hook: "LOADED <package> <ms since the epoch>" on stderr, once per package. */
const HOOK = `const M = require('node:module'); const load = M._load; const seen = new Set();
M._load = function (req, ...rest) {
  if (${JSON.stringify(WATCHED)}.includes(req) && !seen.has(req)) { seen.add(req); process.stderr.write('LOADED ' + req + ' ' + Date.now() + '\\n'); }
  return load.call(this, req, ...rest);
};`;

/** When each watched package was first required, from the hook's lines. */
const loadedAt = (stderr: string): Record<string, number> =>
  Object.fromEntries([...stderr.matchAll(/^LOADED (\S+) (\d+)$/gm)].map((m) => [m[1], Number(m[2])]));

describe.skipIf(!isRoot)('an agent cold on etcd (root, a real etcd)', () => {
  it('publishes its first sync before loading @grpc/grpc-js, etcd3 or prom-client; etcd3 after it; prom-client never without --metrics', () =>
    withEtcd(async (etcd) => {
      const dir = mkdtempSync(join(tmpdir(), 'eucanet-cold-hook-'));
      const hook = join(dir, 'hook.cjs');
      writeFileSync(hook, HOOK);
      const cloud = `c${Math.random().toString(16).slice(2, 8)}`;
      const store = new EtcdStore({ urls: [etcd.url], cloud });
      try {
        await store.write(seed);
        const rev = await store.revision();
        const watch = await StatusWatch.open(store.client, cloud);
        try {
          await withNetns(async (ns) => {
            execFileSync('ip', ['-n', ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth1']);
            const args = ['--role', 'nc', '--node', 'nc1', '--netns', ns, '--etcd', etcd.url, '--cloud', cloud, '--host', 'cold', '--resync', '0'];
            const a = AgentProcess.start(args, { env: { NODE_OPTIONS: `--require ${hook}` } });
            try {
              await watch.reached('cold', rev, 20_000);
              const [row] = (await readCloudStatus(store.client, cloud)).hosts;
              expect(row).toMatchObject({ host: 'cold', revision: rev, converged: true, result: 'ok' });
              // etcd3 follows the first status (the kept-alive lease), and @grpc/grpc-js its first call (the store's
              // watch no longer loads them: etcd-watch-lean.ts): wait for both lines, so the hook is seen working
              // (stderr is a pipe: the two lines may come in two reads).
              const both = () => loadedAt(a.stderr).etcd3 !== undefined && loadedAt(a.stderr)['@grpc/grpc-js'] !== undefined;
              for (let i = 0; i < 100 && !both(); i++) await new Promise((r) => setTimeout(r, 100));
              const at = loadedAt(a.stderr);
              // The store's watch (etcd3) waits for the first sync's status, or 2 s from the start at most (a slow
              // first sync on a loaded machine): not before the earlier of the two.
              const { syncAt, startedAt } = JSON.parse((await store.client.get(`/eucanet/${cloud}/status/cold`).string()) ?? '{}') as HostStatus;
              const notBefore = Math.min(syncAt!, startedAt + 2000);
              const why = `${a.stderr} syncAt ${syncAt} startedAt ${startedAt}`;
              expect(at.etcd3, why).toBeGreaterThanOrEqual(notBefore);
              expect(at['@grpc/grpc-js'], why).toBeGreaterThanOrEqual(notBefore);
              expect(at['prom-client'], why).toBeUndefined();
              expect(await a.stop()).toMatchObject({ code: 0 });
            } finally {
              await a.kill();
            }
          }, 'eucold');
        } finally {
          await watch.close();
        }
      } finally {
        await store.close();
        rmSync(dir, { recursive: true, force: true });
      }
    }));

  it(
    'a first sync slower than 2 s (etcd stopped for 3 s at the start): etcd3 still loads only after its status',
    () =>
      withEtcd(async (etcd) => {
        const dir = mkdtempSync(join(tmpdir(), 'eucanet-cold-hook-'));
        const hook = join(dir, 'hook.cjs');
        writeFileSync(hook, HOOK);
        const cloud = `c${Math.random().toString(16).slice(2, 8)}`;
        const store = new EtcdStore({ urls: [etcd.url], cloud });
        // etcd's process, found by its data directory on its command line.
        const pid = readdirSync('/proc')
          .filter((d) => /^\d+$/.test(d))
          .find((d) => {
            try {
              return readFileSync(`/proc/${d}/cmdline`, 'utf8').includes(etcd.dataDir);
            } catch {
              return false;
            }
          });
        expect(pid).toBeDefined();
        try {
          await store.write(seed);
          const rev = await store.revision();
          const watch = await StatusWatch.open(store.client, cloud);
          try {
            await withNetns(async (ns) => {
              execFileSync('ip', ['-n', ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth1']);
              const args = ['--role', 'nc', '--node', 'nc1', '--netns', ns, '--etcd', etcd.url, '--cloud', cloud, '--host', 'slow', '--resync', '0'];
              process.kill(Number(pid), 'SIGSTOP');
              let stopped = true;
              const a = AgentProcess.start(args, { env: { NODE_OPTIONS: `--require ${hook}` } });
              try {
                await new Promise((r) => setTimeout(r, 3000));
                process.kill(Number(pid), 'SIGCONT');
                stopped = false;
                await watch.reached('slow', rev, 20_000);
                const both = () => loadedAt(a.stderr).etcd3 !== undefined && loadedAt(a.stderr)['@grpc/grpc-js'] !== undefined;
                for (let i = 0; i < 100 && !both(); i++) await new Promise((r) => setTimeout(r, 100));
                const at = loadedAt(a.stderr);
                const { syncAt, startedAt, syncMs } = JSON.parse((await store.client.get(`/eucanet/${cloud}/status/slow`).string()) ?? '{}') as HostStatus;
                const why = `${a.stderr} syncAt ${syncAt} startedAt ${startedAt} syncMs ${syncMs}`;
                // The first sync waited for etcd: it ended more than 2 s after the start.
                expect(syncAt! - startedAt, why).toBeGreaterThan(2000);
                expect(at.etcd3, why).toBeGreaterThanOrEqual(syncAt!);
                expect(at['@grpc/grpc-js'], why).toBeGreaterThanOrEqual(syncAt!);
                expect(await a.stop()).toMatchObject({ code: 0 });
              } finally {
                if (stopped) process.kill(Number(pid), 'SIGCONT');
                await a.kill();
              }
            }, 'eucold');
          } finally {
            await watch.close();
          }
        } finally {
          await store.close();
          rmSync(dir, { recursive: true, force: true });
        }
      }),
    40_000,
  );
});
