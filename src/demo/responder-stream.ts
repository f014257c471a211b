// The responders' UDP streams (demo scaffolding, like responder.ts): a stream sends a
// datagram every few ms from one fixed source port, so that the whole stream
// is one conntrack entry on the CC, and records the answers with their times;
// an echo port answers every datagram with the responder's id.
import { createSocket, type Socket as UdpSocket } from 'node:dgram';

export interface StreamReply {
  /** Date.now() when it arrived. */
  t: number;
  data: string;
}

const streams = new Map<number, { sock: UdpSocket; timer: NodeJS.Timeout; sent: number; replies: StreamReply[] }>();

/** Starts a stream to host:port from source port `sport` (one stream per source port). */
export function streamStart(host: string, port: number, sport: number, everyMs: number): Promise<{ started: boolean }> {
  if (streams.has(sport)) return Promise.reject(new Error(`a stream from port ${sport} runs already`));
  const sock = createSocket('udp4');
  const s = { sock, timer: undefined as unknown as NodeJS.Timeout, sent: 0, replies: [] as StreamReply[] };
  sock.on('message', (m) => s.replies.push({ t: Date.now(), data: m.toString() }));
  sock.on('error', () => undefined);
  return new Promise((resolve, reject) => {
    sock.once('error', reject);
    sock.bind(sport, () => {
      s.timer = setInterval(() => {
        s.sent++;
        sock.send(String(s.sent), port, host);
      }, everyMs);
      streams.set(sport, s);
      resolve({ started: true });
    });
  });
}

/** Stops the stream from `sport`: what it sent and every answer. */
export function streamStop(sport: number): { sent: number; replies: StreamReply[] } {
  const s = streams.get(sport);
  if (!s) throw new Error(`no stream from port ${sport}`);
  clearInterval(s.timer);
  s.sock.close();
  streams.delete(sport);
  return { sent: s.sent, replies: s.replies };
}

/** The stream from `sport` so far, left running: what it sent and the answers until now. */
export function streamPeek(sport: number): { sent: number; replies: StreamReply[] } {
  const s = streams.get(sport);
  if (!s) throw new Error(`no stream from port ${sport}`);
  return { sent: s.sent, replies: [...s.replies] };
}

/** Answers every datagram on `port` with `id`. */
export function listenUdpEcho(port: number, id: string, keep: (s: UdpSocket) => void): Promise<void> {
  const s = createSocket('udp4');
  keep(s);
  s.on('message', (_m, r) => s.send(id, r.port, r.address));
  return new Promise((resolve, reject) => {
    s.once('error', reject);
    s.bind(port, '0.0.0.0', () => resolve());
  });
}
