// Child process for test/integration/native-netns-thread.test.ts: moves itself
// into a pids cgroup, caps the cgroup at the tasks it already has (so no
// thread can start), then asks for a new named namespace, which needs a
// thread of its own. Prints one JSON line with what happened.
//   node netns-thread-child.mjs <path of dist/index.js> <cgroup dir> <netns name>
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

const [lib, cgroup, name] = process.argv.slice(2);
const { createNetns, deleteNetns } = await import(lib);
writeFileSync(`${cgroup}/cgroup.procs`, String(process.pid));
writeFileSync(`${cgroup}/pids.max`, readFileSync(`${cgroup}/pids.current`, 'utf8').trim());
const out = {};
try {
  createNetns(name);
  out.created = true;
} catch (e) {
  const err = /** @type {NodeJS.ErrnoException} */ (e);
  Object.assign(out, { name: err.name, code: err.code, message: err.message });
}
writeFileSync(`${cgroup}/pids.max`, 'max');
out.fileLeft = existsSync(`/run/netns/${name}`);
if (out.created) deleteNetns(name);
console.log(JSON.stringify(out));
