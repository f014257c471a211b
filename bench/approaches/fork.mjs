// Fork per operation, as Eucalyptus did: a shell script whose every line is
// one `ip` or `nft` process (NAT as two rules per instance). The re-apply
// asks after each object with one process; the teardown deletes each tap on
// its own, as a hypervisor does when an instance stops.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { forkCheck, forkDown, forkUp } from '../lib/workload.mjs';

/**
 * @param {string} ns
 * @param {string} file
 */
function sh(ns, file) {
  const t0 = performance.now();
  const r = spawnSync('nsenter', [`--net=/run/netns/${ns}`, 'sh', file], { encoding: 'utf8' });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${file}: ${r.stderr}`);
  return ms;
}

/** @typedef {{ dir: string, files: { up: string, check: string, down: string } }} State */

export default {
  id: 'fork',
  label: 'fork per op (`ip`/`nft` per step, NAT as 2 rules per instance)',
  nat: 'rules',
  /** @this {State} @param {number} n */
  begin(n) {
    this.dir = mkdtempSync(join(tmpdir(), 'eucanet-bench-'));
    this.files = { up: join(this.dir, 'up.sh'), check: join(this.dir, 'check.sh'), down: join(this.dir, 'down.sh') };
    writeFileSync(this.files.up, forkUp(n));
    writeFileSync(this.files.check, forkCheck(n));
    writeFileSync(this.files.down, forkDown(n));
  },
  /** @this {State} @param {string} ns */
  up: async function (ns) {
    return sh(ns, this.files.up);
  },
  /** @this {State} @param {string} ns */
  reconcile: async function (ns) {
    return sh(ns, this.files.check);
  },
  /** @this {State} @param {string} ns */
  down: async function (ns) {
    return sh(ns, this.files.down);
  },
  /** @this {State} */
  end() {
    rmSync(this.dir, { recursive: true, force: true });
  },
};
