// The link kinds eucanet can create through rtnetlink.
import { bridge } from './bridge.js';
import type { KindCodec } from './kind.js';
import { macvlan } from './macvlan.js';
import { veth } from './veth.js';
import { vlan } from './vlan.js';
import { vxlan } from './vxlan.js';

export type { BridgeOptions } from './bridge.js';
export type { MacvlanMode, MacvlanOptions } from './macvlan.js';
export type { VethOptions } from './veth.js';
export type { VlanOptions, VlanProtocol } from './vlan.js';
export type { VxlanOptions } from './vxlan.js';
export type { KindCodec, LinkRef, Resolver } from './kind.js';
export { validateLinkName } from './names.js';

export const KINDS: Readonly<Record<string, KindCodec<unknown>>> = { bridge, vlan, veth, vxlan, macvlan };
