// eucanet: Eucalyptus MANAGED-mode networking over rtnetlink and nftables netlink.
export { open, Handle, type OpenOptions, type TapSpec } from './handle.js';
export { NetlinkError, ValidationError, isBusy, isExists, isGenerationMismatch, isInvalid, isNotFound, isNotSupported, isPermission } from './netlink/errors.js';
export type { Netns } from './netlink/socket.js';
export type { Link, LinkSpec, LinkChanges, LinkFilter, LinkKind, LinkAttributes } from './rtnl/link.js';
export type { Address, AddressSpec, Scope } from './rtnl/address.js';
export type { Route, RouteSpec } from './rtnl/route.js';
export type { LinkRef } from './rtnl/kinds/index.js';
export { createNetns, deleteNetns, netnsExists, listNetns } from './sys/netns.js';
export { readSysctl, writeSysctl } from './sys/sysctl.js';
export { SystemCallError } from './native.js';
