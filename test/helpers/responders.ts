// The demo's responders (src/demo/responders.ts, responder.ts) for tests. The responder is a
// separate node process, so it must be JavaScript: under vitest the module
// resolves its responder.js next to the .ts source, where there is none. The
// built copy in dist/ (which `npm test` and `npx tsc -p .` make) finds its
// dist/demo/responder.js.
export { Responder } from '../../dist/demo/responders.js';
export type { ResponderConfig, ConnectResult } from '../../src/demo/responder.js';
