// A link looked up on its own (RTM_GETLINK: a commit's lookups, and the
// settling lookups of every new tap) is asked for with
// IFLA_EXT_MASK = RTEXT_FILTER_SKIP_STATS, as the dump is and as the floor
// asks: the kernel then leaves out the IPv6 statistics it would otherwise sum
// over every CPU (IFLA_AF_SPEC / AF_INET6 / IFLA_INET6_STATS), which nothing
// decodes. Checked on the kernel's replies against a lookup without the mask.
import { describe, expect, it } from 'vitest';
import { Attrs, type NlMessage } from '../../src/netlink/reader.js';
import type { Request } from '../../src/netlink/socket.js';
import { IFLA_AF_SPEC, IFLA_IFNAME } from '../../src/rtnl/attrs.js';
import { IFINFOMSG_LEN } from '../../src/rtnl/constants.js';
import { decodeLink, LinkGetRequest } from '../../src/rtnl/link.js';
import { isRoot, withHandle } from '../helpers/netns.js';

const AF_INET6 = 10; // linux/socket.h
const IFLA_INET6_STATS = 3; // linux/if_link.h
const RTM_GETLINK = 18;

/** RTM_GETLINK by name with no IFLA_EXT_MASK: what the kernel sends unasked. */
const unmasked = (name: string): Request => ({
  describe: () => `link get ${name} (no mask)`,
  encode(w, seq) {
    w.beginMessage(RTM_GETLINK, 0x1 | 0x4 /* NLM_F_REQUEST | NLM_F_ACK */, seq);
    w.rawZero(IFINFOMSG_LEN);
    w.str(IFLA_IFNAME, name);
    w.endMessage();
  },
});

const inet6Stats = (m: NlMessage) => Attrs.ofMessage(m, IFINFOMSG_LEN).nested(IFLA_AF_SPEC)?.nested(AF_INET6)?.has(IFLA_INET6_STATS);

describe.skipIf(!isRoot)('link lookups (root)', () => {
  it('come back without the IPv6 statistics, by name and by ifindex, and decode as before', async () => {
    await withHandle(async (h) => {
      await h.links.add({ kind: 'bridge', name: 'eucabr10', up: true });
      const [plain] = await h.rtnl.run([unmasked('eucabr10')]);
      expect(inet6Stats(plain.messages[0])).toBe(true);
      const [byName] = await h.rtnl.run([new LinkGetRequest('eucabr10')]);
      const link = decodeLink(byName.messages[0]);
      const [byIndex] = await h.rtnl.run([new LinkGetRequest(link.index)]);
      for (const rep of [byName, byIndex]) {
        expect(rep.error).toBeUndefined();
        expect(inet6Stats(rep.messages[0])).toBeFalsy();
        expect(rep.messages[0].length).toBeLessThan(plain.messages[0].length);
      }
      expect(link).toEqual(decodeLink(plain.messages[0]));
      expect(link).toMatchObject({ name: 'eucabr10', kind: 'bridge', up: true });
    });
  });
});
