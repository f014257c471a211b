// The command line of the demo:
//
//   eucanet demo [--segmentation auto|vlan|vxlan|none] [--instances N] [--clusters 1|2] [--keep] [--direct] [--store file|etcd] [--json]
//   eucanet demo down
//
// Exit codes: 0 every check passed, 1 a check failed (or the demo could not
// run), 2 bad input, 130/143 interrupted (everything removed).
//
// Test-only (not in the usage text): EUCANET_DEMO_BREAK=ingress gives the hosts
// the state without the default group's ingress rule, so check 1 must fail;
// EUCANET_DEMO_BREAK=tunnels (with --clusters 2) gives them the second
// cluster's tunnelAddress as an address no CC holds, so check 12 must fail. The e2e test uses them
// (through runDemo's `break` option) to show that a check can fail.
// EUCANET_DEMO_START_S=S bounds each helper process's start: an agent's
// start and first sync (default 120 s), a responder's (default 20 s). The
// VLAN lane raises it for its emulated VM, where five agents and fourteen
// responders starting at once take minutes on a busy host.
import type { CliValues } from './commands.js';
import { EXIT_FAIL, EXIT_OK, UsageError } from './output.js';
import type { CheckRow } from '../demo/checks.js';
import { readRecord, removeDemo } from '../demo/rundir.js';
import { DemoInterrupted, runDemo, type DemoBreak, type DemoReport } from '../demo/run.js';
import { MAX_CLUSTERS, MAX_INSTANCES, SEED_INSTANCES } from '../demo/state.js';
import type { SegmentationChoice } from '../demo/probe.js';
import { NS_CC, NS_CLC, NS_PUB, NS_SWITCH } from '../demo/topology.js';

const SEGMENTATIONS = ['auto', 'vlan', 'vxlan', 'none'] as const;
const BREAKS: DemoBreak[] = ['ingress', 'tunnels'];

function wrap(text: string, width: number, indent: string): string {
  const words = text.split(' ');
  const lines: string[] = [];
  let line = '';
  for (const w of words) {
    if (line && line.length + 1 + w.length > width) {
      lines.push(line);
      line = w;
    } else {
      line = line ? `${line} ${w}` : w;
    }
  }
  if (line) lines.push(line);
  return lines.join(`\n${indent}`);
}

export function formatRow(r: CheckRow): string {
  const width = Math.max(60, Math.min(process.stdout.columns ?? 100, 120) - 14);
  const pad = '               ';
  return [
    `${r.pass ? ' PASS' : ' FAIL'}  ${wrap(r.name, width + 4, '       ')}`,
    `       expected: ${wrap(r.expected, width - 10, pad + '  ')}`,
    `       observed: ${wrap(r.observed, width - 10, pad + '  ')}`,
  ].join('\n');
}

function applied(mode: DemoReport['mode'], ms: number, store: DemoReport['store'] = 'file'): string {
  return mode === 'agents'
    ? `the state written${store === 'etcd' ? ' to etcd' : ''} and applied by the CC's and NCs' agents in ${ms} ms`
    : `the CC and NC roles applied directly (--direct) in ${ms} ms`;
}

export function summaryLine(rep: DemoReport): string {
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  const scale = rep.instances > rep.sampled ? ` (checks on the seed's ${rep.sampled})` : '';
  return (
    `${rep.failed === 0 ? 'ALL PASSED' : 'FAILED'}: ${rep.passed}/${rep.checks.length} checks passed; ` +
    `${rep.instances} instances${scale} up in ${s(rep.bringUpMs)} (${rep.instancesPerSecond} instances/s; ${applied(rep.mode, rep.applyMs, rep.store)}); ` +
    `whole demo ${s(rep.totalMs)}; segmentation ${rep.segmentation}${rep.clusters > 1 ? `; ${rep.clusters} clusters` : ''}`
  );
}

const KEPT_HELP = `The demo is kept, serving. Look around, for example:
  ip netns exec ${NS_PUB} busybox nc -w 2 192.168.32.200 22 </dev/null      # #1 through DNAT: i-1
  ip netns exec euca-i-1 curl -s http://169.254.169.254/latest/meta-data/instance-id
  ip -n euca-nc1 -d link show;  ip netns exec ${NS_CC} nft list table ip eucanet
  eucanet show --netns ${NS_CC};  eucanet show --netns euca-nc1
Namespaces: ${NS_PUB} ${NS_CLC} ${NS_CC} ${NS_SWITCH} euca-nc1 euca-nc2 euca-i-1 .. euca-i-8`;
const KEPT_HELP_2 = `With --clusters 2 also: ${NS_CC}2 ${NS_SWITCH}2 euca-nc3 euca-i-9 euca-i-10 (#9 shares #1's segment across the tunnels:
  ip netns exec euca-i-1 busybox ping -c 1 -s 1472 <#9's address>;  bridge -n ${NS_CC} fdb show | grep eucatun)`;
const DOWN_HELP = 'Remove it with: eucanet demo down';

async function down(): Promise<number> {
  const r = readRecord();
  if (!r) {
    process.stdout.write('no demo is up\n');
    return EXIT_OK;
  }
  const gone = await removeDemo(r);
  process.stdout.write(
    `demo removed: ${gone.namespaces.length} namespaces (${gone.namespaces.join(' ') || '-'}), ${gone.responders} responders, ${gone.agents} agents${gone.dnsmasq.length ? `, dnsmasq pid ${gone.dnsmasq.join(' ')}` : ''}\n`,
  );
  return EXIT_OK;
}

export async function demo(v: CliValues, args: string[]): Promise<number> {
  if (args[0] === 'down') {
    if (args.length > 1) throw new UsageError(`demo down takes no arguments (got ${args.slice(1).join(' ')})`);
    return down();
  }
  if (args.length) throw new UsageError(`unknown demo command "${args[0]}" (eucanet demo, or eucanet demo down)`);
  const segmentation = (v.segmentation ?? 'auto') as SegmentationChoice;
  if (!(SEGMENTATIONS as readonly string[]).includes(segmentation)) {
    throw new UsageError(`--segmentation must be one of ${SEGMENTATIONS.join(', ')} (got "${segmentation}")`);
  }
  let instances = SEED_INSTANCES;
  if (v.instances !== undefined) {
    instances = Number(v.instances);
    if (!/^\d+$/.test(v.instances) || instances < SEED_INSTANCES || instances > MAX_INSTANCES) {
      throw new UsageError(`--instances must be a whole number from ${SEED_INSTANCES} to ${MAX_INSTANCES} (got "${v.instances}")`);
    }
  }
  let clusters = 1;
  if (v.clusters !== undefined) {
    clusters = Number(v.clusters);
    if (!/^\d+$/.test(v.clusters) || clusters < 1 || clusters > MAX_CLUSTERS) {
      throw new UsageError(`--clusters must be 1 or ${MAX_CLUSTERS} (got "${v.clusters}")`);
    }
  }
  const store = v.store ?? 'file';
  if (store !== 'file' && store !== 'etcd') throw new UsageError(`--store must be file or etcd (got "${store}")`);
  if (store === 'etcd' && v.direct) throw new UsageError('--store etcd runs agents over etcd; --direct has no agents and no store');
  const brk = process.env.EUCANET_DEMO_BREAK;
  if (brk !== undefined && brk !== '' && !BREAKS.includes(brk as DemoBreak)) throw new UsageError(`EUCANET_DEMO_BREAK must be one of ${BREAKS.join(', ')}`);
  const startS = process.env.EUCANET_DEMO_START_S;
  if (startS !== undefined && startS !== '' && !/^[1-9]\d*$/.test(startS)) throw new UsageError(`EUCANET_DEMO_START_S must be whole seconds (got "${startS}")`);
  const json = !!v.json;
  const err = (l: string) => process.stderr.write(`demo: ${l}\n`);
  let rep: DemoReport;
  try {
    rep = await runDemo({
      segmentation,
      instances,
      clusters,
      keep: !!v.keep,
      direct: !!v.direct,
      store,
      ...(brk ? { break: brk as DemoBreak } : {}),
      ...(startS ? { startMs: Number(startS) * 1000 } : {}),
      log: err,
      ...(json
        ? {}
        : {
            onUp: (u) =>
              process.stdout.write(
                `eucanet demo: the seed's cloud in namespaces${u.clusters > 1 ? `, and a second cluster (${u.clusters} clusters)` : ''}; ${u.why}\n` +
                  `up in ${(u.bringUpMs / 1000).toFixed(2)} s: ${u.instances} instances` +
                  `${u.instances > u.sampled ? ` (the seed's ${u.sampled} in namespaces, the rest on taps)` : ''}, every instance namespace with its DHCP lease; ` +
                  `${applied(u.mode, u.applyMs, store)}\n\n`,
              ),
            onRow: (r: CheckRow) => process.stdout.write(`${formatRow(r)}\n`),
          }),
    });
  } catch (e) {
    if (e instanceof DemoInterrupted) {
      err(e.message);
      const code = e.signal === 'SIGINT' ? 130 : 143;
      // Everything is removed; exit even if a stray handle would keep the loop alive.
      setTimeout(() => process.exit(code), 1000).unref();
      return code;
    }
    throw e;
  }
  if (json) {
    const { checks, bringUpMs, segmentation: seg, ...rest } = rep;
    process.stdout.write(`${JSON.stringify({ checks, bringUpMs, segmentation: seg, ...rest }, null, 2)}\n`);
  } else {
    process.stdout.write(`${summaryLine(rep)}\n`);
    if (rep.kept) process.stdout.write(`${[KEPT_HELP, ...(rep.clusters > 1 ? [KEPT_HELP_2] : []), DOWN_HELP].join('\n')}\n`);
  }
  return rep.failed === 0 ? EXIT_OK : EXIT_FAIL;
}
