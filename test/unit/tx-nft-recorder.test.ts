// tx.nft is an explicit recorder (src/tx/nft-recorder.ts): the transaction's
// first-error model, the batch's own op numbers, and no way to send it alone.
// Nothing here is sent: a malformed op fails the commit before the kernel is touched.
import { afterEach, describe, expect, it } from 'vitest';
import { open, type Handle } from '../../src/handle.js';
import { ValidationError } from '../../src/errors.js';

let h: Handle | undefined;
afterEach(() => h?.close());

const T = { family: 'ip' as const, name: 'eucanet' };

describe('tx.nft, the recorder', () => {
  it('records the first bad op with its number in the nftables batch, and fails the commit before sending', async () => {
    h = open();
    const tx = h.transaction();
    tx.addAddress({ dev: 'lo', address: '10.99.0.1/32' }).addAddress({ dev: 'lo', address: '10.99.0.2/32' });
    const r = tx.nft.addTable(T).addChain({ family: 'ip', table: 'eucanet', name: 'bad name with spaces and far too long '.repeat(10) });
    expect(r).toBe(tx.nft); // chaining returns the recorder itself
    tx.nft.addTable({ family: 'ip', name: 'eucanet-2' }).addChain({ family: 'ip', table: 'eucanet', name: '' });
    expect(tx.nft.length).toBe(2); // the two tables; the refused chains are not recorded
    expect(tx.error).toBeInstanceOf(ValidationError);
    const err = (await tx.commit().catch((e: unknown) => e)) as Error;
    expect(err).toBe(tx.error);
    // The second nft op (#1), not "op #2" (the count of rtnetlink ops before it).
    expect(err.message).toMatch(/^nft op #1: .*invalid .*name.*\(nothing was sent\)$/s);
  });

  it('an rtnetlink op refused after a bad nft op does not replace the first error', async () => {
    h = open();
    const tx = h.transaction();
    tx.nft.addTable({ family: 'ip', name: '' });
    tx.addLink({ kind: 'bridge', name: 'abcdefghijklmnopq' });
    expect((await tx.commit().catch((e: unknown) => e)) as Error).toHaveProperty('message', expect.stringMatching(/^nft op #0: /));
  });

  it('has no commit, encode or other way to send the batch on its own', () => {
    h = open();
    const rec = h.transaction().nft as unknown as Record<string, unknown>;
    for (const k of ['commit', 'commitSync', 'encode', 'encodeInto', 'request']) expect(rec[k], k).toBeUndefined();
  });

  it('render() shows the recorded ops as nft commands', () => {
    h = open();
    const tx = h.transaction();
    tx.nft.addTable(T).addChain({ family: 'ip', table: 'eucanet', name: 'fwd' });
    expect(tx.nft.render()).toMatch(/add table ip eucanet\n.*add chain ip eucanet fwd/s);
    expect(tx.nft.ops.map((o) => o.kind)).toEqual(['table', 'chain']);
  });
});
