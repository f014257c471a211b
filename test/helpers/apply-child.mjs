// A separate process that applies a desired state (from dist/, so run
// `npm run build:ts` first): `node apply-child.mjs NETNS PORTS [REPEAT]`.
// The crash test SIGKILLs it at random points; the concurrency test runs two.
import { open } from '../../dist/index.js';
import { reconcile } from '../../dist/tx/reconcile.js';
import { rule } from '../../dist/nft/build/builder.js';
import { desiredState } from './crash-desired.mjs';

const [ns, ports, repeat = '1'] = process.argv.slice(2);
const h = open({ netns: ns });
try {
  for (let i = 0; i < Number(repeat); i++) {
    // (desiredState is typed against src/; this child runs dist/: the same shapes, other declarations.)
    const r = await reconcile(h, /** @type {any} */ (desiredState(Number(ports), /** @type {any} */ (rule))));
    process.stdout.write(`applied ${r.ops} in ${r.attempts} attempt(s)\n`);
  }
} finally {
  h.close();
}
