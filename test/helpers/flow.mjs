// Test scaffolding: one long-lived flow, run inside a namespace with
// `ip netns exec NS node flow.mjs MODE ...` (test/helpers/flows.ts starts it).
// Prints one JSON line per event on stdout.
//
//   udp-echo PORT ID            answer each datagram with ID
//   udp-peer PORT               answer each datagram with the address it came from
//   tcp-echo PORT ID            answer each line of each connection with ID
//   udp-stream HOST PORT SPORT MS   send "n" every MS from the fixed source port SPORT; print replies
//   tcp-hold HOST PORT MS       one connection: send a line every MS; print replies, the end or the error
import { createSocket } from 'node:dgram';
import { connect, createServer } from 'node:net';

const [mode, ...args] = process.argv.slice(2);
/** @param {Record<string, unknown>} o */
const out = (o) => process.stdout.write(`${JSON.stringify({ t: Date.now(), ...o })}\n`);
/** @param {Error} e */
const codeOf = (e) => /** @type {NodeJS.ErrnoException} */ (e).code ?? e.message;
process.stdin.on('end', () => process.exit(0)).resume();

if (mode === 'udp-echo') {
  const [port, id] = args;
  const s = createSocket('udp4');
  s.on('message', (_m, r) => s.send(id, r.port, r.address));
  s.bind(Number(port), () => out({ ready: true }));
} else if (mode === 'udp-peer') {
  const s = createSocket('udp4');
  s.on('message', (_m, r) => s.send(r.address, r.port, r.address));
  s.bind(Number(args[0]), () => out({ ready: true }));
} else if (mode === 'tcp-echo') {
  const [port, id] = args;
  createServer((c) => {
    c.on('error', () => undefined);
    c.on('data', () => c.write(`${id}\n`));
  }).listen(Number(port), () => out({ ready: true }));
} else if (mode === 'udp-stream') {
  const [host, port, sport, ms] = args;
  const s = createSocket('udp4');
  let n = 0;
  s.on('message', (m) => out({ reply: m.toString() }));
  s.on('error', (e) => out({ error: codeOf(e) }));
  s.bind(Number(sport), () => {
    out({ ready: true });
    setInterval(() => s.send(String(n++), Number(port), host), Number(ms));
  });
} else if (mode === 'tcp-hold') {
  const [host, port, ms] = args;
  const c = connect(Number(port), host, () => {
    out({ ready: true, sport: c.localPort });
    setInterval(() => c.write('x\n'), Number(ms));
  });
  c.setEncoding('utf8');
  c.on('data', (d) =>
    String(d)
      .trim()
      .split('\n')
      .forEach((l) => out({ reply: l })),
  );
  c.on('error', (e) => {
    out({ error: codeOf(e) });
    process.exit(0);
  });
  c.on('end', () => {
    out({ end: true });
    process.exit(0);
  });
} else {
  process.stderr.write(`unknown mode ${mode}\n`);
  process.exit(2);
}
