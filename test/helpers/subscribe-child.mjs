// Child process for test/integration/native-subscribe.test.ts: opens a
// netlink subscription in a namespace straight through the addon and then
// does nothing more. With "unref" it unrefs it: the process must then exit by
// itself (an environment cleanup hook closes the still-open subscription);
// without, the open subscription keeps the event loop (and the process) alive.
//   node subscribe-child.mjs <netns name> ref|unref
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const root = fileURLToPath(new URL('../..', import.meta.url));
/** @type {{ NetlinkSubscription: new (p: number, ns: string, g: number[], r: number, cb: () => void) => { unref(): void; port: number } }} */
const addon = require('node-gyp-build')(root);
const [ns, mode] = process.argv.slice(2);
const sub = new addon.NetlinkSubscription(0, `/run/netns/${ns}`, [1], 0, () => undefined);
if (mode === 'unref') sub.unref();
console.log(`open ${sub.port}`);
