// The demo's responder: one small process per host namespace of the demo (an
// instance, the CLC, the public client, the CC), started by responders.ts with
// `nsenter --net=/run/netns/NAME node responder.js CONFIG`. It serves what that host
// serves, and makes the connections the checks ask for, from inside the
// namespace, with real sockets:
//
// - instances: tcp/22 and tcp/23 answer with the instance's id and close (a
//   banner, as ssh and telnet servers speak first); tcp/80 is HTTP and answers
//   any request with the id;
// - the CLC: HTTP on :8773, /latest/meta-data/instance-id answers with the id of
//   the instance whose private address the request came from;
// - the public client: tcp/7000 answers with the address the connection came
//   from (what the public network sees, after SNAT or MASQUERADE);
// - any: UDP listeners that record what arrives (the spoofing check), UDP echo
//   ports answering with the id, and UDP streams from a fixed source port
//   (the moving-address check; responder-stream.ts).
//
// Control: one JSON request per line on stdin, one JSON answer per line on
// stdout ({seq, ok, ...}). The responder exits when stdin closes, so it never
// outlives the demo, even one killed with SIGKILL.
//
// This file is scaffolding of the demo, not of the runtime: the runtime never
// spawns anything but dnsmasq.
import { execFile } from 'node:child_process';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer as createHttpServer, request as httpRequest } from 'node:http';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { must } from '../util/must.js';
import { listenUdpEcho, streamPeek, streamStart, streamStop } from './responder-stream.js';

export interface ResponderConfig {
  /** The namespace, for messages. */
  name: string;
  /** The instance id served on the tcp ports. */
  id?: string;
  /** Banner ports: answer with the id and close. */
  banner?: number[];
  /** HTTP ports answering any request with the id. */
  http?: number[];
  /** The metadata service's port (CLC). Its map comes with the `metadata` op. */
  metadata?: number;
  /** A port answering with the peer's address. */
  peer?: number;
  /** UDP ports that record datagrams. */
  udp?: number[];
  /** UDP ports that answer every datagram with the id (responder-stream.ts). */
  udpEcho?: number[];
}

export type ResponderRequest =
  | { op: 'connect'; host: string; port: number; timeoutMs: number; localAddress?: string; send?: string }
  | { op: 'http'; url: string; timeoutMs: number }
  | { op: 'udp'; host: string; port: number; data: string; localAddress?: string }
  | { op: 'received'; port: number }
  | { op: 'ping'; host: string; timeoutMs: number; size?: number }
  | { op: 'metadata'; map: Record<string, string> }
  | { op: 'streamStart'; host: string; port: number; sport: number; everyMs: number }
  | { op: 'streamStop'; sport: number }
  | { op: 'streamPeek'; sport: number }
  | { op: 'detach' };

/** What a connection attempt came to. `timeout` is what a dropped SYN looks like. */
export type Outcome = 'reply' | 'timeout' | 'refused' | 'unreachable' | 'error';

export interface ConnectResult {
  outcome: Outcome;
  data?: string;
  message?: string;
  ms: number;
}

const servers: Array<Server | UdpSocket> = [];
const datagrams = new Map<number, Array<{ from: string; data: string }>>();
let metadataMap: Record<string, string> = {};
/** Kept (demo --keep): outlive the demo, serve until `eucanet demo down` ends us. */
let detached = false;

const plain = (addr: string | undefined): string => (addr ?? '?').replace(/^::ffff:/, '');

function listenTcp(port: number, onConn: (c: Socket) => void): Promise<void> {
  const s = createServer(onConn);
  servers.push(s);
  return new Promise((resolve, reject) => {
    s.once('error', reject);
    s.listen({ port, host: '0.0.0.0' }, () => resolve());
  });
}

function listenHttp(port: number, answer: (remote: string, url: string) => [number, string]): Promise<void> {
  const s = createHttpServer((req, res) => {
    const [status, body] = answer(plain(req.socket.remoteAddress), req.url ?? '/');
    res.writeHead(status, { 'content-type': 'text/plain', connection: 'close' });
    res.end(`${body}\n`);
  });
  servers.push(s);
  return new Promise((resolve, reject) => {
    s.once('error', reject);
    s.listen({ port, host: '0.0.0.0' }, () => resolve());
  });
}

function listenUdp(port: number): Promise<void> {
  const s = createSocket('udp4');
  servers.push(s);
  datagrams.set(port, []);
  s.on('message', (msg, rinfo) => must(datagrams.get(port), `the datagrams of port ${port}`).push({ from: rinfo.address, data: msg.toString() }));
  return new Promise((resolve, reject) => {
    s.once('error', reject);
    s.bind(port, '0.0.0.0', () => resolve());
  });
}

async function start(cfg: ResponderConfig): Promise<void> {
  const id = cfg.id ?? cfg.name;
  const jobs: Array<Promise<void>> = [];
  for (const p of cfg.banner ?? []) jobs.push(listenTcp(p, (c) => c.on('error', () => undefined).end(`${id}\n`)));
  for (const p of cfg.http ?? []) jobs.push(listenHttp(p, () => [200, id]));
  if (cfg.metadata !== undefined) {
    jobs.push(
      listenHttp(cfg.metadata, (remote, url) => {
        const who = metadataMap[remote];
        if (!who) return [404, `no instance has address ${remote}`];
        if (url.replace(/\/+$/, '') === '/latest/meta-data/instance-id') return [200, who];
        return [404, `not found: ${url}`];
      }),
    );
  }
  if (cfg.peer !== undefined) jobs.push(listenTcp(cfg.peer, (c) => c.on('error', () => undefined).end(`${plain(c.remoteAddress)}\n`)));
  for (const p of cfg.udp ?? []) jobs.push(listenUdp(p));
  for (const p of cfg.udpEcho ?? []) jobs.push(listenUdpEcho(p, id, (s) => servers.push(s)));
  await Promise.all(jobs);
}

function tcpConnect(r: Extract<ResponderRequest, { op: 'connect' }>): Promise<ConnectResult> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    let data = '';
    let done = false;
    const s = connect({ host: r.host, port: r.port, ...(r.localAddress ? { localAddress: r.localAddress } : {}) });
    const finish = (res: Omit<ConnectResult, 'ms'>) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      s.destroy();
      resolve({ ...res, ms: Date.now() - t0 });
    };
    const timer = setTimeout(() => finish(data ? { outcome: 'reply', data: data.trim() } : { outcome: 'timeout' }), r.timeoutMs);
    s.setEncoding('utf8');
    s.on('connect', () => {
      if (r.send) s.write(r.send);
    });
    s.on('data', (d: string) => (data += d));
    s.on('end', () => finish({ outcome: 'reply', data: data.trim() }));
    s.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNREFUSED') finish({ outcome: 'refused' });
      else if (err.code === 'EHOSTUNREACH' || err.code === 'ENETUNREACH') finish({ outcome: 'unreachable', message: err.code });
      else finish({ outcome: 'error', message: err.code ?? err.message });
    });
  });
}

function httpGet(r: Extract<ResponderRequest, { op: 'http' }>): Promise<ConnectResult & { status?: number }> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    let done = false;
    const finish = (res: Omit<ConnectResult, 'ms'> & { status?: number }) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      req.destroy();
      resolve({ ...res, ms: Date.now() - t0 });
    };
    const req = httpRequest(r.url, { agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => finish({ outcome: 'reply', status: res.statusCode ?? 0, data: body.trim() }));
      res.on('error', (err) => finish({ outcome: 'error', message: err.message }));
    });
    const timer = setTimeout(() => finish({ outcome: 'timeout' }), r.timeoutMs);
    req.on('error', (err: NodeJS.ErrnoException) => finish({ outcome: err.code === 'ECONNREFUSED' ? 'refused' : 'error', message: err.code ?? err.message }));
    req.end();
  });
}

function udpSend(r: Extract<ResponderRequest, { op: 'udp' }>): Promise<{ sent: boolean; message?: string }> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    const fail = (err: Error) => {
      s.close();
      resolve({ sent: false, message: err.message });
    };
    s.once('error', fail);
    s.bind({ address: r.localAddress ?? '0.0.0.0', port: 0 }, () => {
      s.send(r.data, r.port, r.host, (err) => {
        if (err) return fail(err);
        s.close();
        resolve({ sent: true });
      });
    });
  });
}

/** busybox ping (root: raw ICMP), one echo, -W seconds, `size` bytes of payload (-s). */
function ping(r: Extract<ResponderRequest, { op: 'ping' }>): Promise<{ ok: boolean; output: string }> {
  const secs = String(Math.max(1, Math.round(r.timeoutMs / 1000)));
  return new Promise((resolve) => {
    execFile(
      'busybox',
      ['ping', '-c', '1', '-W', secs, ...(r.size !== undefined ? ['-s', String(r.size)] : []), r.host],
      { timeout: r.timeoutMs + 2000 },
      (err, stdout, stderr) => resolve({ ok: !err, output: `${stdout}${stderr}`.trim().split('\n').slice(-2).join(' ') }),
    );
  });
}

async function handle(req: ResponderRequest): Promise<unknown> {
  switch (req.op) {
    case 'connect':
      return tcpConnect(req);
    case 'http':
      return httpGet(req);
    case 'udp':
      return udpSend(req);
    case 'received': {
      const got = datagrams.get(req.port) ?? [];
      datagrams.set(req.port, []);
      return { datagrams: got };
    }
    case 'ping':
      return ping(req);
    case 'streamStart':
      return streamStart(req.host, req.port, req.sport, req.everyMs);
    case 'streamStop':
      return streamStop(req.sport);
    case 'streamPeek':
      return streamPeek(req.sport);
    case 'metadata':
      metadataMap = req.map;
      return { entries: Object.keys(req.map).length };
    case 'detach':
      detached = true;
      return { detached: true };
    default:
      throw new Error(`unknown op ${(req as { op: string }).op}`);
  }
}

function send(obj: unknown): void {
  if (!process.stdout.destroyed) process.stdout.write(`${JSON.stringify(obj)}\n`);
}

async function main(): Promise<void> {
  const cfg = JSON.parse(process.argv[2] ?? '{}') as ResponderConfig;
  try {
    await start(cfg);
  } catch (err) {
    send({ ready: false, error: `${cfg.name}: ${(err as Error).message}` });
    process.exit(1);
  }
  send({ ready: true, pid: process.pid });
  const rl = createInterface({ input: process.stdin });
  rl.on('line', (line) => {
    let msg: { seq: number } & ResponderRequest;
    try {
      msg = JSON.parse(line) as typeof msg;
    } catch {
      return;
    }
    handle(msg).then(
      (result) => send({ seq: msg.seq, ok: true, result }),
      (err: Error) => send({ seq: msg.seq, ok: false, error: err.message }),
    );
  });
  // The demo went away (normally, or killed): so do we, unless kept.
  process.stdout.on('error', () => undefined);
  process.stderr.on('error', () => undefined);
  rl.on('close', () => {
    if (detached) return;
    for (const s of servers) {
      try {
        s.close();
      } catch {
        // already closed
      }
    }
    process.exit(0);
  });
}

void main();
