// The decoders the fuzz test drives: every decoder of kernel replies, called
// the way the library calls them (split the reply, then one decoder per
// message by type), plus one decoder picked at random per message, so that
// each decoder also sees the other decoders' messages.
import { NLMSG_DONE, NLMSG_ERROR } from '../../src/netlink/constants.js';
import { Attrs, splitMessages, type NlMessage } from '../../src/netlink/reader.js';
import { FAMILY_NUM } from '../../src/nft/names.js';
import { decodeError } from '../../src/netlink/socket.js';
import { decodeAddress } from '../../src/rtnl/address.js';
import { decodeLink } from '../../src/rtnl/link.js';
import { decodeNeighbor } from '../../src/rtnl/neigh.js';
import { decodeRoute } from '../../src/rtnl/route.js';
import { decodeChain, decodeElements, decodeGeneration, decodeRule, decodeSet, decodeTable, type NftSet } from '../../src/nft/index.js';
import { batchError } from '../../src/nft/wire/batch-errors.js';
import type { Batch } from '../../src/nft/batch.js';
import { miscBatch, seedBatch, setsBatch } from '../fixtures/nft/rulesets.js';
import type { Rng } from './prng.js';
import type { Family, Seed } from './seeds.js';

export type Decoder = (m: NlMessage) => unknown;

/** What one fuzz case called, for the failure report. */
export interface Call {
  decoder: string;
  message: number;
}

export interface Targets {
  /** Batches whose replies batchError reads (a reply is matched to one by sequence number). */
  batches: Batch[];
  rtnl: ReadonlyMap<number, [string, Decoder]>;
  nft: ReadonlyMap<number, [string, Decoder]>;
  all: Record<Family, Array<[string, Decoder]>>;
}

/** Sets to decode element messages against: every set in the nft seeds, and a verdict map. */
function setsOf(seeds: readonly Seed[]): NftSet[] {
  const sets: NftSet[] = [{ family: 'inet', table: 't', name: 'vmap', key: 'ipv4_addr', data: 'verdict' }];
  for (const s of seeds) {
    if (s.family !== 'nft') continue;
    for (const m of splitMessages(s.bytes)) if (m.type === ((10 << 8) | 9)) sets.push(decodeSet(m));
  }
  return sets;
}

/** The set an element message names (table, set, family), if it is one of `sets` and readable. */
function namedSet(m: NlMessage, sets: readonly NftSet[]): NftSet | undefined {
  try {
    const a = Attrs.ofMessage(m, 4);
    const table = a.str(1 /* NFTA_SET_ELEM_LIST_TABLE */);
    const name = a.str(2 /* NFTA_SET_ELEM_LIST_SET */);
    const fam = m.buf[m.offset + 16];
    return sets.find((s) => s.table === table && s.name === name && FAMILY_NUM[s.family] === fam);
  } catch {
    return undefined;
  }
}

export function targets(seeds: readonly Seed[], rng: () => Rng): Targets {
  const sets = setsOf(seeds);
  // Mostly the set the message names (its elements then fit it), sometimes any set.
  const elements: Decoder = (m) => {
    const own = namedSet(m, sets);
    return decodeElements([m], own && rng().chance(0.8) ? own : rng().pick(sets));
  };
  const rtnl = new Map<number, [string, Decoder]>([
    [16, ['decodeLink', decodeLink]],
    [20, ['decodeAddress', decodeAddress]],
    [24, ['decodeRoute', decodeRoute]],
    [28, ['decodeNeighbor', decodeNeighbor]],
  ]);
  const nft = new Map<number, [string, Decoder]>([
    [0, ['decodeTable', decodeTable]],
    [3, ['decodeChain', decodeChain]],
    [6, ['decodeRule', decodeRule]],
    [9, ['decodeSet', decodeSet]],
    [12, ['decodeElements', elements]],
    [15, ['decodeGeneration', decodeGeneration]],
  ]);
  const error: [string, Decoder] = ['decodeError', decodeError];
  return { batches: [seedBatch(), setsBatch(), miscBatch()], rtnl, nft, all: { rtnl: [...rtnl.values(), error], nft: [...nft.values(), error] } };
}

/** The decoder the library would use for `m`, if any. */
function byType(t: Targets, family: Family, m: NlMessage): [string, Decoder] | undefined {
  if (m.type === NLMSG_ERROR) return ['decodeError', decodeError];
  if (m.type === NLMSG_DONE) return undefined;
  if (family === 'rtnl') return t.rtnl.get(m.type);
  return m.type >> 8 === 10 ? t.nft.get(m.type & 0xff) : undefined;
}

/**
 * Decodes one reply the way the library does. `run` calls each decoder and
 * deals with what it throws. With `extras`, some replies also go to
 * batchError and some messages to a second decoder. Returns the number of
 * decoder calls.
 */
export function decodeReply(t: Targets, family: Family, buf: Buffer, rng: Rng, run: (call: Call, fn: () => unknown) => boolean, extras = true): number {
  let msgs: NlMessage[] = [];
  let calls = 1;
  if (extras && family === 'nft' && rng.chance(0.2)) {
    // The reply to a batch: the first message's seq is taken to answer one of its messages.
    const b = rng.pick(t.batches);
    const seq = buf.length >= 12 ? buf.readUInt32LE(8) : 0;
    const first = (seq - rng.below(b.messages + 2)) >>> 0;
    calls++;
    run({ decoder: 'batchError', message: -1 }, () => batchError(b, buf, first, rng.chance(0.5) ? { genid: 1 } : {}));
  }
  if (!run({ decoder: 'splitMessages', message: -1 }, () => (msgs = splitMessages(buf)))) return calls;
  for (let i = 0; i < msgs.length && i < 64; i++) {
    const m = msgs[i];
    const own = byType(t, family, m);
    if (own) {
      calls++;
      run({ decoder: own[0], message: i }, () => own[1](m));
    }
    if (!extras) continue;
    // Half the messages also go to another decoder of the family.
    const [name, other] = rng.pick(t.all[family]);
    if (rng.chance(0.5) && name !== own?.[0]) {
      calls++;
      run({ decoder: name, message: i }, () => other(m));
    }
  }
  return calls;
}
