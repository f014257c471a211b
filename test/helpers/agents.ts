// The demo's agents (src/demo/agents.ts, agent.ts) for tests. The agent is a
// separate node process, so it must be JavaScript: under vitest the module
// resolves its agent.js next to the .ts source, where there is none. The
// built copy in dist/ (which `npm test` and `npx tsc -p .` make) finds its
// dist/demo/agent.js.
export { Agent } from '../../dist/demo/agents.js';
export type { AgentConfig, ConnectResult } from '../../src/demo/agent.js';
