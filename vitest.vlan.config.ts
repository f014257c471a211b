// The VLAN lane's tests (test/vlan), run by test/vm/vlan-lane.sh natively or
// inside the qemu VM (test/vm/run-in-vm.sh) when the host kernel has no 8021q.
// Kept apart from vitest.config.ts, whose include list (unit, integration,
// e2e) does not name test/vlan, so `npm test` never picks these up. An
// integration file whose VLAN case this host kernel must skip is named here too,
// so that case runs in the lane (its VXLAN case runs in both).
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/vlan/**/*.test.ts', 'test/integration/agent-own-sync.test.ts'],
    // Native addon + namespaces: one process per test file keeps them apart.
    pool: 'forks',
    // Under TCG (no KVM) code runs 20-35x slower: spawning `ip`, `tcpdump` and
    // `ping` takes a good part of a second each, so give every test room.
    testTimeout: 180_000,
    hookTimeout: 120_000,
    teardownTimeout: 60_000,
    // No watch, no retries: a VLAN failure must show, not be retried away.
    retry: 0,
  },
});
