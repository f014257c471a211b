// The results as a markdown table (bench/results.md, quoted by the README)
// and the issue's targets, each judged from the measured medians.
import { ms } from './stats.mjs';

/**
 * What bench/run.mjs measured (bench/results.json).
 * @typedef {object} Results
 * @property {string} date
 * @property {ReturnType<typeof import('./machine.mjs').machine>} machine
 * @property {{ smoke: boolean, reps: number, forkReps: number, forkLargeReps: number, dpReps: number }} options
 * @property {Awaited<ReturnType<typeof import('../instances.mjs').runInstances>>} [instances]
 * @property {Awaited<ReturnType<typeof import('../datapath.mjs').runDatapath>>} [datapath]
 * @property {Awaited<ReturnType<typeof import('../cold-cli.mjs').runCold>>} [cold]
 * @property {number} [seconds]
 * @property {{ start: number | null, end: number | null }} [load]  the 1-minute load average at the start and the end (a shared machine's noise)
 * @property {{ table: string, date: string, cpu: string, options: object }[]} [kept]  tables kept from an earlier run (--keep-others)
 * @property {Target[]} [targets]
 */
/** @typedef {{ what: string, value: string, met: boolean | undefined }} Target */

const x = (/** @type {number} */ r) => (Number.isFinite(r) ? `${r.toFixed(2)}x` : '–');

/**
 * @param {Results} res
 * @param {number} n
 * @param {string} approach
 */
function get(res, n, approach) {
  return res.instances?.find((r) => r.n === n && r.approach === approach);
}

/**
 * Each target: what it asks, the measured value, and whether it is met (undefined: not measured).
 * @param {Results} res
 * @returns {Target[]}
 */
export function targets(res) {
  /** @type {Target[]} */
  const out = [];
  // A smoke run (one short run of each) shows that everything works, not how fast.
  const smoke = res.options?.smoke;
  /**
   * @param {string} what
   * @param {string} value
   * @param {boolean | undefined} met
   */
  const add = (what, value, met) => out.push({ what, value: smoke ? `${value} (smoke run: not judged)` : value, met: smoke ? undefined : met });
  // Issue 19's goals for the library: bring-up within 1.10x of the floor at
  // N=100 and at N=1000, and a no-change re-apply at most 5% of bring-up.
  for (const n of [100, 1000]) {
    const e = get(res, n, 'eucanet');
    const f = get(res, n, 'floor');
    add(
      `bring-up at N=${n} within 1.10x of the floor`,
      e && f ? `${x(e.median.up / f.median.up)} (${ms(e.median.up)} vs ${ms(f.median.up)} ms)` : 'not measured',
      e && f ? e.median.up <= 1.1 * f.median.up : undefined,
    );
  }
  const e = get(res, 1000, 'eucanet');
  const f = get(res, 1000, 'floor');
  add(
    'no-change re-apply at N=1000 at most 5% of bring-up',
    e ? `${((100 * e.median.reconcile) / e.median.up).toFixed(1)}% (${ms(e.median.reconcile)} of ${ms(e.median.up)} ms)` : 'not measured',
    e ? e.median.reconcile <= 0.05 * e.median.up : undefined,
  );
  // Earlier targets, kept.
  for (const n of [1000, 100]) {
    const en = get(res, n, 'eucanet');
    const b = get(res, n, 'batch');
    add(
      `bring-up at N=${n} faster than ip -batch + nft -f`,
      en && b ? `${ms(en.median.up)} vs ${ms(b.median.up)} ms (${x(en.median.up / b.median.up)})` : 'not measured',
      en && b ? en.median.up < b.median.up : undefined,
    );
  }
  add(
    'teardown at N=1000 within 1.2x of the floor',
    e && f ? `${x(e.median.down / f.median.down)} (${ms(e.median.down)} vs ${ms(f.median.down)} ms)` : 'not measured',
    e && f ? e.median.down <= 1.2 * f.median.down : undefined,
  );
  const cold = res.cold?.find((r) => r.n === 1000);
  add(
    'cold `eucanet apply` NC + CC at N=1000 within 1.3x of the tools',
    cold ? `${x(cold.ratio ?? NaN)} (${ms(cold.eucanet.median ?? NaN)} vs ${ms(cold.batch.median ?? NaN)} ms)` : 'not measured',
    cold ? (cold.ratio ?? Infinity) <= 1.3 : undefined,
  );
  const dp = res.datapath?.results ?? [];
  const big = Math.max(...dp.map((r) => r.n));
  const small = Math.min(...dp.map((r) => r.n));
  const eb = dp.find((r) => r.ruleset === 'eucanet' && r.n === big);
  add(
    `datapath: eucanet's rate at ${big} instances within 10% of its rate at ${small}`,
    eb ? `${(100 * eb.toSmallest).toFixed(1)}%` : 'not measured',
    eb ? eb.toSmallest >= 0.9 : undefined,
  );
  return out;
}

/** @param {Results} res */
export function markdown(res) {
  const m = res.machine;
  const o = res.options;
  const l = [];
  l.push(`Measured ${res.date.slice(0, 10)} on ${m.cpu} (${m.cores} cores, ${m.memoryGiB} GiB), ${m.os}, kernel ${m.kernel}, Node ${m.node}.`);
  l.push(`\`npm run bench${o.smoke ? ' -- --smoke' : ''}\` took ${res.seconds} s.`);
  if (m.vcpuPack)
    l.push(
      `The kernel has a scheduler knob of its own, \`kernel.sched_vcpu_pack\` = ${m.vcpuPack}, and a thread it wakes usually starts on its waker's vCPU: eucanet's JavaScript thread and its addon's worker mostly share one vCPU, so the JavaScript work adds to the kernel work instead of running beside it; the floor has one thread (docs/performance.md, round 26).`,
    );
  if (res.load) l.push(`Load average (1 min) at the start and the end: ${res.load.start} and ${res.load.end}, on ${m.cores} cores.`);
  for (const k of res.kept ?? []) l.push(`The ${k.table} table is from an earlier run (${k.date.slice(0, 10)}, ${k.cpu}), kept with --keep-others.`);
  l.push('');
  if (res.instances?.length) {
    l.push(
      `**Instances** (median of the runs counted: ${o.reps}${o.smoke ? '' : " from N=3000 on, more below (3000 instances' worth, up to 9x), after one uncounted run of each approach"}; fork per op ${o.forkReps} up to N=1000, ${o.forkLargeReps} above; the re-apply's over 3 per run, fork per op's 1): each a tap in its group's bridge and up, a /32 on the public NIC, a DNAT and an SNAT. Milliseconds, and the ratio to the floor.`,
    );
    l.push('');
    l.push('| N | approach | bring-up | no-change re-apply | teardown | runs |');
    l.push('|---:|---|---:|---:|---:|---:|');
    for (const r of res.instances) {
      const cell = (/** @type {string} */ p) => `${ms(r.median[p])} (${x(r.toFloor?.[p])})`;
      l.push(`| ${r.n} | ${r.label} | ${cell('up')} | ${cell('reconcile')} | ${cell('down')} | ${r.runs} |`);
    }
    l.push('');
    const rss = res.instances.filter((r) => r.peakRssKiB);
    if (rss.length)
      l.push(
        `eucanet's peak RSS (the largest of its worker processes at that N): ${rss.map((r) => `N=${r.n} ${(r.peakRssKiB / 1024).toFixed(0)} MiB`).join(', ')}.`,
      );
    const cold = res.instances.filter((r) => r.cold);
    if (cold.length) {
      l.push('');
      l.push(
        `eucanet's first run in a fresh process (cold code, not counted above; bring-up / re-apply / teardown): ${cold.map((r) => `N=${r.n} ${ms(r.cold.up)} / ${ms(r.cold.reconcile)} / ${ms(r.cold.down)} ms`).join(', ')}.`,
      );
    }
    l.push('');
  }
  if (res.cold?.length) coldTable(res, l);
  if (res.datapath?.results?.length) {
    const d = res.datapath;
    l.push(
      `**Datapath** (median of ${o.dpReps} runs of ${d.seconds} s, ${d.inflight} connects in flight): new TCP connections per second through the CC to the last instance's public IP.`,
    );
    l.push('');
    l.push('| instances configured | eucanet (maps) | Eucalyptus-style linear rules (`nft -f`) |');
    l.push('|---:|---:|---:|');
    for (const n of [...new Set(d.results.map((r) => r.n))]) {
      const c = (/** @type {string} */ rs) => {
        const r = d.results.find((y) => y.n === n && y.ruleset === rs);
        return r ? `${r.median.toFixed(0)}/s (${(100 * r.toSmallest).toFixed(0)}%)` : '–';
      };
      l.push(`| ${n} | ${c('eucanet')} | ${c('linear')} |`);
    }
    l.push('');
  }
  if (res.targets?.length) {
    l.push('| target | measured | met |');
    l.push('|---|---|---|');
    for (const t of res.targets) l.push(`| ${t.what} | ${t.value} | ${t.met === undefined ? '–' : t.met ? 'yes' : '**no**'} |`);
    l.push('');
  }
  return l.join('\n');
}

/**
 * The cold command line: the table, then eucanet's time by phase.
 * @param {Results} res
 * @param {string[]} l
 */
function coldTable(res, l) {
  const rows = res.cold ?? [];
  l.push(
    `**Cold command line** (median of ${res.options.reps} runs, rotated): \`eucanet apply --role nc\` then \`--role cc\`, each a fresh process in its own namespace, from one state file, DHCP included, against the same kernel work from files: \`ip -batch\`, \`bridge -batch\` and \`nft -f\` per role and a dnsmasq start with the same hosts. Milliseconds.`,
  );
  l.push('');
  l.push('| N | eucanet apply NC + CC | ip + bridge + nft + dnsmasq | ratio | runs |');
  l.push('|---:|---:|---:|---:|---:|');
  for (const r of rows) l.push(`| ${r.n} | ${ms(r.eucanet.median ?? NaN)} | ${ms(r.batch.median ?? NaN)} | ${x(r.ratio ?? NaN)} | ${r.eucanet.runs.length} |`);
  l.push('');
  const order = ['boot', 'modules', 'state', 'allocate', 'preflight', 'plan', 'reads', 'diff', 'commit', 'conntrack', 'dhcp', 'output', 'exit'];
  const seen = new Set(rows.flatMap((r) => Object.keys(r.phases)));
  const names = [...order.filter((k) => seen.has(k)), ...[...seen].filter((k) => !order.includes(k))];
  l.push("eucanet's time by phase (both processes added up, medians; each phase as its process reported it: EUCANET_PHASES=1):");
  l.push('');
  l.push(`| N | ${names.join(' | ')} |`);
  l.push(`|---:|${names.map(() => '---:').join('|')}|`);
  for (const r of rows) l.push(`| ${r.n} | ${names.map((k) => ms(r.phases[k] ?? NaN)).join(' | ')} |`);
  l.push('');
  const withFaults = rows.filter((r) => Object.keys(r.faults ?? {}).length);
  if (withFaults.length) {
    const fnames = names.filter((k) => k !== 'exit');
    l.push(
      "Its minor page faults by phase (both processes, medians; a fault cost 12 to 14 µs on the virtual machine of round 18 and about 2 µs on round 19's (docs/performance.md), and `node -e 0` takes about 1,900 to 2,200): memory touched for the first time is a large part of a cold process's time.",
    );
    l.push('');
    l.push(`| N | ${fnames.join(' | ')} | all |`);
    l.push(`|---:|${fnames.map(() => '---:').join('|')}|---:|`);
    for (const r of withFaults) {
      const f = r.faults ?? {};
      l.push(`| ${r.n} | ${fnames.map((k) => String(f[k] ?? '')).join(' | ')} | ${Object.values(f).reduce((a, b) => a + b, 0)} |`);
    }
    l.push('');
  }
}
