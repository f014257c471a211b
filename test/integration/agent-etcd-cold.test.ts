// An agent's cold start on etcd (issue 17: within 1.5x of `apply`): what it
// loads. The built CLI runs with a --require hook that writes, on stderr,
// when each of the big client packages (@grpc/grpc-js, etcd3, prom-client)
// is first required, and node:http2 (which it does load: the hook is seen
// working); the status the agent puts after its first sync says when that
// sync ended (syncAt, the same clock). Without etcd's user/password auth an
// agent's reads, watch, status puts and kept-alive lease all go over the
// lean channel (gRPC on node:http2): etcd3 and @grpc/grpc-js are never
// loaded, neither before its first sync nor after (a change applied, the
// lease kept alive past its third); prom-client not at all without --metrics.
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
const WATCHED = ['@grpc/grpc-js', 'etcd3', 'prom-client', 'node:http2'];

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
  it('converges, applies a change and keeps its lease without ever loading @grpc/grpc-js, etcd3 or prom-client (no auth, no --metrics)', () =>
    withEtcd(async (etcd) => {
      const dir = mkdtempSync(join(tmpdir(), 'eucanet-cold-hook-'));
      const hook = join(dir, 'hook.cjs');
      writeFileSync(hook, HOOK);
      const cloud = `c${Math.random().toString(16).slice(2, 8)}`;
      const store = new EtcdStore({ urls: [etcd.url], cloud });
      try {
        await store.write(seed);
        const rev = await store.revision();
        const watch = await StatusWatch.open(store, cloud);
        try {
          await withNetns(async (ns) => {
            execFileSync('ip', ['-n', ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth1']);
            const args = ['--role', 'nc', '--node', 'nc1', '--netns', ns, '--etcd', etcd.url, '--cloud', cloud, '--host', 'cold', '--resync', '0'];
            const a = AgentProcess.start(args, { env: { NODE_OPTIONS: `--require ${hook}` } });
            try {
              await watch.reached('cold', rev, 20_000);
              const [row] = (await readCloudStatus(store.client, cloud)).hosts;
              expect(row).toMatchObject({ host: 'cold', revision: rev, converged: true, result: 'ok' });
              // A change, applied (through the store's watch), and the lease's keep-alives (every 3.3 s) meanwhile.
              const next = {
                ...seed,
                groups: seed.groups.map((g: { rules?: unknown[] }, i: number) =>
                  i ? g : { ...g, rules: [...(g.rules ?? []), { protocol: 'tcp', from: 2222, to: 2222, cidr: '0.0.0.0/0' }] },
                ),
              };
              const rev2 = Number(await store.write(next));
              await watch.reached('cold', rev2, 20_000);
              await new Promise((r) => setTimeout(r, 4000));
              const at = loadedAt(a.stderr);
              const why = a.stderr;
              expect(at['node:http2'], why).toBeDefined();
              expect(at.etcd3, why).toBeUndefined();
              expect(at['@grpc/grpc-js'], why).toBeUndefined();
              expect(at['prom-client'], why).toBeUndefined();
              expect((await readCloudStatus(store.client, cloud)).hosts[0]).toMatchObject({ host: 'cold', revision: rev2, converged: true });
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
    'a first sync slower than 2 s (etcd stopped for 3 s at the start): converged, still without etcd3 or @grpc/grpc-js',
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
          const watch = await StatusWatch.open(store, cloud);
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
                const at = loadedAt(a.stderr);
                const { syncAt, startedAt, syncMs } = JSON.parse((await store.client.get(`/eucanet/${cloud}/status/slow`).string()) ?? '{}') as HostStatus;
                const why = `${a.stderr} syncAt ${syncAt} startedAt ${startedAt} syncMs ${syncMs}`;
                // The first sync waited for etcd: it ended more than 2 s after the start.
                expect(syncAt! - startedAt, why).toBeGreaterThan(2000);
                expect(at['node:http2'], why).toBeDefined();
                expect(at.etcd3, why).toBeUndefined();
                expect(at['@grpc/grpc-js'], why).toBeUndefined();
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
