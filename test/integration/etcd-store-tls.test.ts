// The etcd store over TLS with client certificates: an etcd on loopback that
// requires a client certificate signed by its CA (--client-cert-auth).
// `--etcd-ca --etcd-cert --etcd-key` reach it; without the client certificate,
// or without the CA, the command fails (exit 1) naming the URL.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { eucanetAsync as eucanet } from '../helpers/cli-async.js';
import { repoRoot } from '../helpers/cli.js';
import { ETCD_BIN } from '../helpers/etcd.js';

const dir = mkdtempSync(join(tmpdir(), 'eucanet-etcd-tls-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const f = (name: string) => join(dir, name);
const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });

/** A CA, a server certificate for 127.0.0.1 and a client certificate, all signed by the CA. */
function makeCerts(): void {
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=eucanet-test-ca', '-keyout', f('ca.key'), '-out', f('ca.pem'));
  for (const [name, ext] of [
    ['server', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth'],
    ['client', 'extendedKeyUsage=clientAuth'],
  ] as const) {
    writeFileSync(f(`${name}.ext`), `${ext}\n`);
    openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${name}`, '-keyout', f(`${name}.key`), '-out', f(`${name}.csr`));
    openssl(
      'x509',
      '-req',
      '-in',
      f(`${name}.csr`),
      '-CA',
      f('ca.pem'),
      '-CAkey',
      f('ca.key'),
      '-CAcreateserial',
      '-days',
      '1',
      '-extfile',
      f(`${name}.ext`),
      '-out',
      f(`${name}.pem`),
    );
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

/** GET /health over TLS with the client certificate. */
function healthy(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(
      `${url}/health`,
      { ca: readFileSync(f('ca.pem')), cert: readFileSync(f('client.pem')), key: readFileSync(f('client.key')), timeout: 500 },
      (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      },
    );
    req.on('error', () => resolve(false));
    req.end();
  });
}

describe('etcd store over TLS with client certificates', () => {
  it('--etcd-ca --etcd-cert --etcd-key reach an etcd that requires them; without them: exit 1 naming the URL', async () => {
    makeCerts();
    const [client, peer] = [await freePort(), await freePort()];
    const url = `https://127.0.0.1:${client}`;
    const peerUrl = `http://127.0.0.1:${peer}`;
    const etcd = spawn(
      ETCD_BIN,
      [
        ...['--name', 'tls', '--data-dir', f('data'), '--listen-client-urls', url, '--advertise-client-urls', url],
        ...['--listen-peer-urls', peerUrl, '--initial-advertise-peer-urls', peerUrl, '--initial-cluster', `tls=${peerUrl}`, '--log-level', 'error'],
        ...['--cert-file', f('server.pem'), '--key-file', f('server.key'), '--trusted-ca-file', f('ca.pem'), '--client-cert-auth'],
      ],
      { stdio: 'ignore' },
    );
    try {
      const deadline = Date.now() + 15_000;
      while (!(await healthy(url))) {
        if (Date.now() > deadline) throw new Error('the TLS etcd did not become healthy');
        await new Promise((r) => setTimeout(r, 100));
      }
      const tls = ['--etcd-ca', f('ca.pem'), '--etcd-cert', f('client.pem'), '--etcd-key', f('client.key')];
      const put = await eucanet(['cloud', 'put', '--etcd', url, ...tls, '--state', join(repoRoot, 'examples/seed.json'), '--json']);
      expect(put.status, put.stderr).toBe(0);
      const get = await eucanet(['cloud', 'get', '--etcd', url, ...tls, '--json']);
      expect(get.status, get.stderr).toBe(0);
      expect((JSON.parse(get.stdout) as { revision: number }).revision).toBe((JSON.parse(put.stdout) as { revision: number }).revision);
      // The CA but no client certificate: etcd refuses the handshake.
      const noCert = await eucanet(['cloud', 'get', '--etcd', url, '--etcd-ca', f('ca.pem'), '--etcd-timeout', '3']);
      expect(noCert.status).toBe(1);
      expect(noCert.stderr).toContain(`etcd ${url}`);
      // No CA: etcd's certificate is not trusted.
      const noCa = await eucanet(['cloud', 'get', '--etcd', url, '--etcd-cert', f('client.pem'), '--etcd-key', f('client.key'), '--etcd-timeout', '3']);
      expect(noCa.status).toBe(1);
      expect(noCa.stderr).toContain(`etcd ${url}`);
      // Half a pair is bad input.
      const half = await eucanet(['cloud', 'get', '--etcd', url, '--etcd-cert', f('client.pem')]);
      expect(half.status).toBe(2);
      expect(half.stderr).toMatch(/--etcd-cert and --etcd-key go together/);
    } finally {
      etcd.kill('SIGKILL');
    }
  });
});
