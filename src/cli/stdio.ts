// The command line's own output, written without Node's stdio streams when it
// can be (issue 19, the cold path). The first touch of process.stdout or
// process.stderr builds a stream; for a pipe (a script reading eucanet's
// output) that loads Node's net and stream modules and opens a libuv pipe
// handle, a few milliseconds of a cold `eucanet apply` spent on one line of
// output. A pipe, file or terminal takes a plain write(2) as well.
//
// Order is kept: once a stream exists for a descriptor (this file fell back to
// it, or any other code touched it, the agent's log say), everything for that
// descriptor goes through the stream. A write that fails (EAGAIN on a
// non-blocking pipe, EPIPE...) hands what is left to the stream, which then
// behaves as it always did.
import { fstatSync, writeSync } from 'node:fs';

type Name = 'stdout' | 'stderr';

/** The streams that exist (built by anyone): their writes may be queued, and the exit waits for them. */
const made = new Set<Name>();

// Node builds each stream on the first read of its property: that read is
// noted, and the stream is returned as before.
for (const name of ['stdout', 'stderr'] as const) {
  const d = Object.getOwnPropertyDescriptor(process, name);
  if (d?.configurable && d.get) {
    const build = d.get.bind(process) as () => NodeJS.WriteStream;
    Object.defineProperty(process, name, {
      ...d,
      get() {
        made.add(name);
        return build();
      },
    });
  } else made.add(name);
}

function write(fd: 1 | 2, name: Name, text: string): void {
  if (made.has(name)) {
    process[name].write(text);
    return;
  }
  const buf = Buffer.from(text);
  let off = 0;
  try {
    while (off < buf.length) off += writeSync(fd, buf, off);
  } catch {
    process[name].write(buf.subarray(off));
  }
}

/** Writes `text` to standard output. */
export const writeOut = (text: string): void => write(1, 'stdout', text);

/** Writes `text` to standard error. */
export const writeErr = (text: string): void => write(2, 'stderr', text);

/** Whether standard error is a terminal (a stream is built only for a character device, where it is cheap and needed anyway). */
export function stderrIsTTY(): boolean {
  try {
    if (!fstatSync(2).isCharacterDevice()) return false;
  } catch {
    return false;
  }
  return process.stderr.isTTY === true;
}

/** The streams that exist, whose queued writes the exit must wait for. */
export const streamsMade = (): NodeJS.WriteStream[] => [...made].map((n) => process[n]);
