// Bursts of rtnetlink changes for the subscription and event tests: many
// requests sent in one synchronous exchange, so that the event loop cannot
// read notifications while they are made.
import { AddressAddRequest, AddressDeleteRequest } from '../../src/rtnl/address.js';

/** Resolves only ifindexes (the requests below never name a link). */
const byIndex = { index: (ref: string | number) => ref as number };

/** RTM_NEWADDR for 10.<b>.<i/256>.<i%256>/32 on link `index`, i in [0, n). */
export function addressBurst(index: number, n: number, b = 9): AddressAddRequest[] {
  return Array.from({ length: n }, (_, i) => new AddressAddRequest({ dev: index, address: `10.${b}.${i >> 8}.${i & 255}/32` }, byIndex as never));
}

/** RTM_DELADDR for the same addresses. */
export function addressDeleteBurst(index: number, n: number, b = 9): AddressDeleteRequest[] {
  return Array.from({ length: n }, (_, i) => new AddressDeleteRequest({ dev: index, address: `10.${b}.${i >> 8}.${i & 255}/32` }, byIndex as never));
}
