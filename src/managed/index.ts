// The Eucalyptus MANAGED model: the desired-state document, its validation,
// the VNET_* settings of eucalyptus.conf, and allocation. Pure: no root, no kernel.
export type {
  AllocatedGroup,
  AllocatedInstance,
  AllocatedState,
  ClusterController,
  Group,
  Instance,
  Mode,
  NodeHost,
  Protocol,
  Rule,
  Segmentation,
  State,
} from './types.js';
export { DEFAULT_MAC_PREFIX, DEFAULT_VLAN_RANGE, defaultSegmentation, groupChain, groupKey } from './types.js';
export { stateSchema } from './schema.js';
export { checkSchema, parseState, validateState } from './validate.js';
export { allocate } from './allocate.js';
export { parseVnetConf, type VnetConf, type VnetSettings } from './vnetconf.js';
export {
  allocateFile,
  formatState,
  loadState,
  readState,
  mergeSettings,
  withAllocations,
  writeFileAtomic,
  type AllocateFileResult,
  type LoadedState,
  type LoadOptions,
} from './statefile.js';
export { eucalyptusBlock, groupNet, type GroupNet } from './net.js';
export { dhcpNetworksOf, hostnameClashes, type DhcpFromStateOptions } from './roles/dhcp.js';
// The cloud's operations as pure functions: state -> { state, changes }.
export * as ops from './ops/index.js';
