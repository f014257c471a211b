// The cluster controller's DHCP service: dnsmasq configuration rendered from
// DHCP networks (pure), and a supervisor that runs dnsmasq in a namespace and
// reloads it with SIGHUP.
export type { DhcpHost, DhcpNetwork, DnsmasqFiles, DnsmasqPaths, NormalizedNetwork } from './types.js';
export { DEFAULT_LEASE_TIME } from './types.js';
export { dhcpHostnameProblem, normalizeNetworks } from './validate.js';
export { dnsmasqPaths, renderDnsmasq, renderNormalized, type RenderOptions } from './render.js';
export { leaseConflicts, parseLeases, pruneLeases, type Lease } from './leases.js';
export { DhcpApplyError, DhcpError, DhcpValidationError, type DhcpErrorCode, type DhcpErrorDetails } from './errors.js';
export {
  DhcpServer,
  type DhcpFileChange,
  type DhcpPlan,
  type DhcpServerOptions,
  type PlannedAction,
  type DhcpStatus,
  type ExitInfo,
  type StopResult,
  type UpdateAction,
  type UpdateOptions,
  type UpdateResult,
  type HostChange,
} from './server.js';
