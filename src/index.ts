// eucanet: Eucalyptus MANAGED-mode networking over rtnetlink and nftables
// netlink. The package's public API, deliberately: what the README documents.
// Internals (codecs, the executor, the connections' sync twins) are not here,
// and the test hooks are in src/internal/testing.ts, which the package does
// not export.

// A handle on one network namespace, and the namespaces themselves.
export { open, Handle, type AddressFilter, type FdbFilter, type NeighborFilter, type OpenOptions, type RouteFilter, type TapSpec } from './handle.js';
export type { Netns } from './sys/netns-path.js';
export { checkNetns, createNetns, deleteNetns, netnsExists, listNetns } from './sys/netns.js';
export { readSysctl, writeSysctl } from './sys/sysctl.js';
export type { TapOptions } from './native.js';
export type { Link, LinkSpec, LinkChanges, LinkFilter, LinkKind, LinkAttributes } from './rtnl/link.js';
export type { Address, AddressSpec, Scope } from './rtnl/address.js';
export type { Route, RouteSpec } from './rtnl/route.js';
export type { Neighbor, NeighborSpec, NeighFlag, NeighSetState, NudState } from './rtnl/neigh.js';
export type { FdbSpec, FdbState } from './rtnl/fdb.js';
export type { LinkRef } from './rtnl/kinds/index.js';
export type {
  CtEntry,
  CtEntryRef,
  CtFilter,
  CtFlushResult,
  CtMasked,
  CtProtocol,
  CtStatusName,
  CtTcpState,
  CtTuple,
  CtTupleFilter,
} from './conntrack/index.js';

// Events: h.events() and what it yields.
export type { EventStream } from './events/stream.js';
export type {
  AddressEvent,
  ChainEvent,
  ElementEvent,
  EventAction,
  EventOptions,
  GenerationEvent,
  LinkEvent,
  NeighborEvent,
  NetEvent,
  ObjectEvent,
  ResyncEvent,
  RouteEvent,
  RuleEvent,
  SetEvent,
  SyncedEvent,
  TableEvent,
  UndecodedEvent,
} from './events/types.js';

// Errors, and the predicates over them.
export {
  DecodeError,
  ExchangeError,
  NetlinkError,
  TransactionError,
  ValidationError,
  isBusy,
  isDecodeError,
  isExists,
  isGenerationMismatch,
  isInvalid,
  isNotFound,
  isNotSupported,
  isPermission,
} from './errors.js';
export { AddonMissingError, SystemCallError } from './native.js';

// Transactions and reconcile.
export { Transaction, type CommitOptions, type CommitStats, type ProgressFn } from './tx/transaction.js';
export type { NftRecorder } from './tx/nft-recorder.js';
export type { Op as TransactionOp, Phase } from './tx/ops.js';
export type { Rendered } from './tx/render.js';
export { reconcile, plan, type PlanOptions, type ReconcileOptions, type ReconcilePlan, type ReconcileResult } from './tx/reconcile.js';
export type { DesiredPort, DesiredState } from './tx/desired.js';
export type { DesiredNft, DesiredSet } from './tx/nft-diff.js';
export { EUCANET_PROTO, OWNER_ALIAS, PORT_GROUP, type Foreign, type OwnerScope } from './tx/owner.js';

// nftables, the MANAGED model, the CC's DHCP service, and the roles.
export * as nft from './nft/public.js';
export * as managed from './managed/index.js';
export * as dhcp from './dhcp/index.js';
export * as store from './store/index.js';
export { ManagedCloud, type Host, type CloudOptions } from './managed/cloud.js';
export { applyRole, downRole, ConntrackApplyError, type ApplyOptions, type ApplyResult, type ApplyConntrack } from './managed/apply.js';
export { planCc, planNc, planRole, type Role } from './managed/roles/index.js';

// The per-host agent: the daemon `eucanet agent` runs, as a class to embed.
export {
  Agent,
  AgentMetrics,
  StoreSource,
  serveMetrics,
  type AgentEvents,
  type AgentOptions,
  type AgentStatus,
  type Applied,
  type DriftSignal,
  type DriftSource,
  type StateRead,
  type StateSource,
  type SyncOutcome,
  type SyncResult,
  type SyncTrigger,
} from './agent/index.js';
