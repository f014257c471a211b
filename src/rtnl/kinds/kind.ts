// What a link kind plugs into the link encoder and decoder. One file per kind
// implements this (bridge.ts, vlan.ts, veth.ts, vxlan.ts, macvlan.ts).
import type { Attrs } from '../../netlink/reader.js';
import type { NlWriter } from '../../netlink/writer.js';
import type { Netns } from '../../netlink/socket.js';

/** A device named by its name or its ifindex. */
export type LinkRef = string | number;

/**
 * Turns names into the numbers the kernel wants. Names are looked up, and
 * namespace files opened, before encoding starts; encoders only read the answers.
 */
export interface Resolver {
  index(ref: LinkRef, field: string): number;
  netnsFd(netns: Netns, field: string): number;
}

export interface KindCodec<S> {
  readonly kind: string;
  /** Throws ValidationError naming the field for bad kind-specific input. */
  validate(spec: S): void;
  /** Names of other links the spec refers to (parent, underlying device). */
  refs(spec: S): LinkRef[];
  /** Attributes outside IFLA_LINKINFO (IFLA_LINK for a parent). */
  encodeTop?(w: NlWriter, spec: S, r: Resolver): void;
  /** The IFLA_INFO_DATA payload; omit the method for kinds that have none. */
  encodeData?(w: NlWriter, spec: S, r: Resolver): void;
  /** Kind-specific fields read back from IFLA_INFO_DATA. */
  decode(data: Attrs | undefined): Record<string, unknown>;
  /** uapi names of the IFLA_INFO_DATA attributes, for error messages. */
  readonly dataNames: readonly (string | undefined)[];
}
