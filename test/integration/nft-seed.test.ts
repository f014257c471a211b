// The seed's NAT and firewall, built through the library in a "cluster
// controller" namespace, with real packets: a public client reaches an
// instance on tcp/22 through its public address (DNAT + the admin-default
// chain), tcp/23 is dropped by FORWARD's policy, the instance reaches the
// client from its public address (SNAT), and its metadata request is
// DNATed to port 8773.
//
//   client (C)                     router / CC (R)                     instance #1 (S)
//   c0 192.168.32.10/24 ---- r0 192.168.32.20, .200, .201/24
//                                  r1 10.1.2.1/27, 169.254.169.254 ---- s0 10.1.2.2/27, default via 10.1.2.1
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { openNft, renderRuleset } from '../../src/nft/index.js';
import { isRoot, nsExec, withNetns } from '../helpers/netns.js';
import { seedBatch } from '../fixtures/nft/rulesets.js';

const server = fileURLToPath(new URL('../fixtures/nft/tcp-server.mjs', import.meta.url));
const probeScript = fileURLToPath(new URL('../fixtures/nft/tcp-probe.mjs', import.meta.url));
const children: ChildProcess[] = [];

afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
});

function ip(ns: string, ...args: string[]): void {
  nsExec(ns, 'ip', args);
}

/** Starts the TCP server in `ns` and resolves once it listens. */
function serve(ns: string, host: string, ...ports: number[]): Promise<void> {
  const c = spawn('ip', ['netns', 'exec', ns, process.execPath, server, host, ...ports.map(String)], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(c);
  return new Promise((resolve, reject) => {
    c.stdout.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
    c.on('exit', (code) => reject(new Error(`server in ${ns} exited (${code})`)));
  });
}

function probe(ns: string, host: string, port: number, timeoutMs = 1500): { ok: boolean; data?: string; error?: string } {
  const r = spawnSync('ip', ['netns', 'exec', ns, process.execPath, probeScript, host, String(port), String(timeoutMs)], { encoding: 'utf8' });
  return JSON.parse(r.stdout.trim());
}

describe.skipIf(!isRoot)('the seed, with packets', () => {
  it('DNAT to an instance on tcp/22, tcp/23 dropped, SNAT outbound, metadata DNAT', async () => {
    await withNetns(
      (C) =>
        withNetns(
          (R) =>
            withNetns(async (S) => {
              // Scaffolding with `ip`, inside the test namespaces only.
              ip(R, 'link', 'add', 'r0', 'type', 'veth', 'peer', 'name', 'c0', 'netns', C);
              ip(R, 'link', 'add', 'r1', 'type', 'veth', 'peer', 'name', 's0', 'netns', S);
              ip(C, 'addr', 'add', '192.168.32.10/24', 'dev', 'c0');
              for (const a of ['192.168.32.20/24', '192.168.32.200/24', '192.168.32.201/24']) ip(R, 'addr', 'add', a, 'dev', 'r0');
              ip(R, 'addr', 'add', '10.1.2.1/27', 'dev', 'r1');
              ip(R, 'addr', 'add', '169.254.169.254/32', 'dev', 'r1');
              ip(S, 'addr', 'add', '10.1.2.2/27', 'dev', 's0');
              for (const [ns, dev] of [
                [C, 'c0'],
                [R, 'r0'],
                [R, 'r1'],
                [S, 's0'],
                [C, 'lo'],
                [R, 'lo'],
                [S, 'lo'],
              ] as const)
                ip(ns, 'link', 'set', dev, 'up');
              ip(S, 'route', 'add', 'default', 'via', '10.1.2.1');
              nsExec(R, 'sysctl', ['-qw', 'net.ipv4.ip_forward=1']);

              // The seed's nat and filter tables, through the library.
              const nft = openNft({ netns: R });
              try {
                await seedBatch(nft.conn).commit();
                expect(renderRuleset(await nft.listRuleset())).toBe(nsExec(R, 'nft', ['list', 'ruleset']));
              } finally {
                nft.close();
              }

              await serve(S, '10.1.2.2', 22, 23);
              await serve(C, '192.168.32.10', 8080);
              await serve(R, '169.254.169.254', 8773);

              // Public client -> public address, tcp/22: DNAT to 10.1.2.2, allowed by admin-default.
              expect(probe(C, '192.168.32.200', 22)).toEqual({ ok: true, data: 'hello from 10.1.2.2:22 to 192.168.32.10\n' });
              // tcp/23: DNATed too, but nothing accepts it; FORWARD's policy drops it.
              expect(probe(C, '192.168.32.200', 23)).toEqual({ ok: false, error: 'timeout' });
              // .201 maps to 10.1.2.3, which does not exist here: nothing answers.
              expect(probe(C, '192.168.32.201', 22, 800).ok).toBe(false);
              // The instance goes out: the client sees its public address (SNAT).
              expect(probe(S, '192.168.32.10', 8080)).toEqual({ ok: true, data: 'hello from 192.168.32.10:8080 to 192.168.32.200\n' });
              // Metadata: 169.254.169.254:80 from the private network lands on :8773.
              expect(probe(S, '169.254.169.254', 80)).toEqual({ ok: true, data: 'hello from 169.254.169.254:8773 to 10.1.2.2\n' });
              // The router itself is not reachable on tcp/22 from outside (no DNAT for .20, nothing listens).
              expect(probe(C, '192.168.32.20', 22, 800).ok).toBe(false);
            }, 'eut-nfs'),
          'eut-nfr',
        ),
      'eut-nfc',
    );
  });
});
