// Helpers for tests of decoders on malformed input.
import { expect } from 'vitest';
import { isDecodeError, type DecodeError } from '../../src/errors.js';
import { splitMessages, type NlMessage } from '../../src/netlink/reader.js';
import { NlWriter } from '../../src/netlink/writer.js';

/** Runs `fn`, which must throw a DecodeError; returns it. */
export function decodeErrorOf(fn: () => unknown): DecodeError {
  let thrown: unknown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  expect(thrown, 'expected a DecodeError, nothing was thrown').toBeDefined();
  expect(isDecodeError(thrown), `expected a DecodeError, got ${String(thrown)}`).toBe(true);
  return thrown as DecodeError;
}

/** One message written by `build`, as splitMessages returns it. */
export function message(build: (w: NlWriter) => void): NlMessage {
  const w = new NlWriter(512);
  build(w);
  const msgs = splitMessages(Buffer.from(w.bytes()));
  expect(msgs).toHaveLength(1);
  return msgs[0];
}
