// The taps phase: persistent taps made through the addon (/dev/net/tun), each
// journaled as soon as it exists, so that nothing after (the lookups that
// settle them, a later group) can fail with a tap left unrecorded.
import type { Session } from '../session.js';
import { addon, nativeError, type TapOptions } from '../native.js';
import { netnsTarget } from '../sys/netns-path.js';
import { LinkDeleteRequest } from '../rtnl/link.js';
import type { Item, OpOf } from './commit.js';
import type { CommitContext } from './context.js';
import type { Journal } from './journal.js';

type TapItem = Item<OpOf<'tap.add'>>;

/** The options the addon applies when it makes a tap: one addon call per distinct set. */
function optionsOf(it: TapItem): TapOptions {
  const { tun, vnetHdr, multiQueue, owner, ownerGroup } = it.op.spec;
  return { tun, vnetHdr, multiQueue, owner, ownerGroup };
}

/** Whether a tap's spec asks for the creation options `o`. */
function sameOptions(it: TapItem, o: TapOptions): boolean {
  const s = it.op.spec;
  return s.tun === o.tun && s.vnetHdr === o.vnetHdr && s.multiQueue === o.multiQueue && s.owner === o.owner && s.ownerGroup === o.ownerGroup;
}

/**
 * Taps grouped by identical creation options, in first-seen order. A tap
 * with the options of the one before it (nearly always: a host's taps are
 * made alike) joins its group without a key made for it.
 */
function byOptions(items: TapItem[]): Array<{ opts: TapOptions; items: TapItem[] }> {
  const groups = new Map<string, { opts: TapOptions; items: TapItem[] }>();
  let last: { opts: TapOptions; items: TapItem[] } | undefined;
  for (const it of items) {
    if (last && sameOptions(it, last.opts)) {
      last.items.push(it);
      continue;
    }
    const opts = optionsOf(it);
    const key = JSON.stringify([opts.tun, opts.vnetHdr, opts.multiQueue, opts.owner, opts.ownerGroup]);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { opts, items: [] }));
    g.items.push(it);
    last = g;
  }
  return [...groups.values()];
}

/**
 * Creates the taps, each group all or none; journals each tap the moment its
 * group exists. Returns how many taps were made, and the ifindexes of those
 * that go into a bridge: asking the kernel for each of them before they are
 * enslaved is what makes enslaving them cheap (see settleLinks); the caller
 * sends those lookups with its next requests.
 */
export async function createTaps(h: Session, ctx: CommitContext, journal: Journal, items: TapItem[]): Promise<{ requests: number; settle: number[] }> {
  let requests = 0;
  const enslaved: number[] = [];
  for (const group of byOptions(items)) {
    const names = group.items.map((it) => it.op.name);
    const site = new Error();
    let indexes: Int32Array;
    try {
      indexes = await addon.tapCreate(netnsTarget(h.netns), names, group.opts, false);
    } catch (err) {
      const e = nativeError(err, 'tap create', site) as Error & { index?: number; opIndex?: number };
      if (typeof e.index === 'number') e.opIndex = group.items[e.index].index;
      throw e;
    }
    requests += names.length;
    group.items.forEach((it, i) => {
      ctx.record(it.op.name, indexes[i]);
      journal.push({ kind: 'request', req: new LinkDeleteRequest(it.op.name), undoes: `tap add ${it.op.name}`, opIndex: it.index });
      if (it.op.spec.master !== undefined) enslaved.push(indexes[i]);
    });
  }
  return { requests, settle: enslaved };
}
