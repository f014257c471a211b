// The per-host agent: the class to embed, its seams, and its metrics.
export { Agent, type AgentEvents, type AgentOptions, type AgentStatus, type Applied } from './agent.js';
export { StoreSource } from './store-source.js';
export { AgentMetrics, parseListen, serveMetrics } from './metrics.js';
export { formatSync } from './log.js';
export {
  TRIGGERS,
  type DriftSignal,
  type DriftSource,
  type StateRead,
  type StateSource,
  type SyncOutcome,
  type SyncResult,
  type SyncTrigger,
} from './types.js';
export { DriftJudge, wantedLinksOf, type JudgedEvent, type Wanted, type WantedLink } from './drift.js';
export { NetnsEvents } from './netns-events.js';
