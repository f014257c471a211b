// Addresses: add, delete, dump, and the RTM_NEWADDR decoder.
//
// RTM_NEWADDR / RTM_DELADDR / RTM_GETADDR
//   struct ifaddrmsg  family u8 | prefixlen u8 | flags u8 | scope u8 | index u32
//   IFA_LOCAL   the address itself
//   IFA_ADDRESS the address (the peer on point-to-point links)
//   IFA_BROADCAST (IPv4), IFA_LABEL string (IPv4), IFA_FLAGS u32
import { ValidationError } from '../errors.js';
import { NLMSG_HDRLEN, NLM_F_ACK, NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL, NLM_F_REQUEST } from '../netlink/constants.js';
import type { NlMessage } from '../netlink/reader.js';
import type { Request } from '../netlink/socket.js';
import type { NlWriter } from '../netlink/writer.js';
import { parseCidr, parseIp, type Cidr } from '../util/ip.js';
import { IFA_ADDRESS, IFA_BROADCAST, IFA_LABEL, IFA_LOCAL, IFA_NAMES, IFA_PROTO } from './attrs.js';
import {
  AF_INET,
  AF_INET6,
  AF_UNSPEC,
  IFADDRMSG_LEN,
  RT_SCOPE_HOST,
  RT_SCOPE_LINK,
  RT_SCOPE_SITE,
  RT_SCOPE_UNIVERSE,
  RTM_DELADDR,
  RTM_GETADDR,
  RTM_NEWADDR,
} from './constants.js';
import type { LinkRef, Resolver } from './kinds/index.js';
import { checkRef } from './link.js';

export type Scope = 'global' | 'site' | 'link' | 'host';

export const SCOPES: Record<Scope, number> = {
  global: RT_SCOPE_UNIVERSE,
  site: RT_SCOPE_SITE,
  link: RT_SCOPE_LINK,
  host: RT_SCOPE_HOST,
};

/** Scope names by number (a table: decoders call this for every address and route of a dump). */
const SCOPE_NAMES: (Scope | undefined)[] = [];
for (const k of Object.keys(SCOPES) as Scope[]) SCOPE_NAMES[SCOPES[k]] = k;

export function scopeName(n: number): Scope | number {
  return SCOPE_NAMES[n] ?? n;
}

export interface AddressSpec {
  /** The link, by name or ifindex. */
  dev: LinkRef;
  /** "10.1.2.1/27", "192.168.32.200/32", "fd00::1/64"; a bare address is a host prefix. */
  address: string;
  /** IPv4 broadcast address; true computes it from the prefix. */
  broadcast?: string | true;
  scope?: Scope;
  /** IPv4 label, which must start with the link's name ("eth0:pub"). */
  label?: string;
  /** Address protocol (IFA_PROTO, kernel 5.18+): who added it. eucanet marks its own. */
  proto?: number;
}

export interface Address {
  index: number;
  family: 4 | 6;
  address: string;
  prefix: number;
  scope: Scope | number;
  flags: number;
  broadcast?: string;
  label?: string;
  proto?: number;
}

/**
 * Address texts as parsed, by text. A transaction validates an op as it is
 * added (Transaction.add), and its request and its undo (tx/commit.ts)
 * validate the same spec again: the text is parsed once (every other field is
 * checked each time, as it is cheap). Keyed by the text rather than by the
 * spec (a WeakMap, before): a bring-up of N addresses made N new weak keys,
 * which cost more than parsing. The parsed values are only read (the
 * requests' encoders copy them into messages); the map is emptied when it
 * reaches PARSED_MAX texts, which bounds what it keeps (about 1 MB).
 */
const parsed = new Map<string, Readonly<Cidr>>();
const PARSED_MAX = 8192;

function cidrOf(s: AddressSpec): Cidr {
  const text = s.address;
  const had = typeof text === 'string' ? parsed.get(text) : undefined;
  if (had !== undefined) return had;
  const cidr = parseCidr('address', text);
  if (parsed.size >= PARSED_MAX) parsed.clear();
  parsed.set(text, cidr);
  return cidr;
}

export function validateAddress(s: AddressSpec): Cidr {
  checkRef('dev', s.dev);
  const c = cidrOf(s);
  if (s.scope !== undefined && !Object.hasOwn(SCOPES, s.scope)) {
    throw new ValidationError('scope', s.scope, `must be one of ${Object.keys(SCOPES).join(', ')}`);
  }
  if (s.broadcast !== undefined && s.broadcast !== true) {
    if (c.family !== 4) throw new ValidationError('broadcast', s.broadcast, 'only IPv4 addresses have a broadcast');
    parseIp('broadcast', s.broadcast);
  }
  if (s.proto !== undefined && (!Number.isInteger(s.proto) || s.proto < 0 || s.proto > 255)) {
    throw new ValidationError('proto', s.proto, 'must be an integer in 0-255');
  }
  if (s.label !== undefined) {
    if (c.family !== 4) throw new ValidationError('label', s.label, 'only IPv4 addresses have a label');
    if (typeof s.label !== 'string' || Buffer.byteLength(s.label) > 15) {
      throw new ValidationError('label', s.label, 'a label is at most 15 bytes');
    }
  }
  return c;
}

function broadcastOf(c: Cidr): Uint8Array {
  const out = Uint8Array.from(c.bytes);
  for (let bit = c.prefix; bit < 32; bit++) out[bit >> 3] |= 0x80 >> (bit & 7);
  return out;
}

abstract class AddressRequest implements Request {
  protected readonly cidr: Cidr;
  constructor(
    readonly spec: AddressSpec,
    private readonly r: Resolver,
  ) {
    this.cidr = validateAddress(spec);
  }
  abstract describe(): string;
  abstract encode(w: NlWriter, seq: number): void;
  protected write(w: NlWriter, type: number, flags: number, seq: number): void {
    const s = this.spec;
    const c = this.cidr;
    w.beginMessage(type, flags, seq);
    w.rawU8(c.family === 4 ? AF_INET : AF_INET6);
    w.rawU8(c.prefix);
    w.rawU8(0);
    w.rawU8(SCOPES[s.scope ?? 'global']);
    w.rawU32(this.r.index(s.dev, 'dev'));
    // ip's order: local, broadcast, label, then IFA_ADDRESS (a copy of local).
    w.binary(IFA_LOCAL, c.bytes);
    if (s.broadcast !== undefined) {
      w.binary(IFA_BROADCAST, s.broadcast === true ? broadcastOf(c) : parseIp('broadcast', s.broadcast).bytes);
    }
    if (s.label !== undefined) w.str(IFA_LABEL, s.label);
    w.binary(IFA_ADDRESS, c.bytes);
    if (s.proto !== undefined && type === RTM_NEWADDR) w.u8(IFA_PROTO, s.proto);
    w.endMessage();
  }
  attrName(path: number[]): string {
    return IFA_NAMES[path[0]] ?? String(path[0]);
  }
}

export class AddressAddRequest extends AddressRequest {
  describe(): string {
    return `address add ${this.spec.address} dev ${this.spec.dev}`;
  }
  encode(w: NlWriter, seq: number): void {
    this.write(w, RTM_NEWADDR, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, seq);
  }
}

export class AddressDeleteRequest extends AddressRequest {
  describe(): string {
    return `address delete ${this.spec.address} dev ${this.spec.dev}`;
  }
  encode(w: NlWriter, seq: number): void {
    this.write(w, RTM_DELADDR, NLM_F_REQUEST | NLM_F_ACK, seq);
  }
}

/** RTM_GETADDR dump; with strict checking the kernel filters by family and ifindex. */
export class AddressDumpRequest implements Request {
  constructor(
    readonly family: 0 | 4 | 6 = 0,
    readonly index = 0,
  ) {}
  describe(): string {
    return 'address dump';
  }
  encode(w: NlWriter, seq: number): void {
    w.beginMessage(RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP, seq);
    w.rawU8(this.family === 4 ? AF_INET : this.family === 6 ? AF_INET6 : AF_UNSPEC);
    w.rawU8(0);
    w.rawU8(0);
    w.rawU8(0);
    w.rawU32(this.index);
    w.endMessage();
  }
}

/**
 * Whether an RTM_NEWADDR of an AF_UNSPEC dump is one decodeAddress reads: the
 * kernel also reports other families (AF_MCTP, AF_PHONET) there. A message
 * too short to say is passed on, for decodeAddress to refuse.
 */
export function isInetAddress(m: NlMessage): boolean {
  if (m.length < NLMSG_HDRLEN + IFADDRMSG_LEN) return true;
  const fam = m.buf[m.offset + NLMSG_HDRLEN];
  return fam === AF_INET || fam === AF_INET6;
}

export { decodeAddress } from './address-decode.js';
