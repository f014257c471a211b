// Renders objects as nft syntax: valid input to `nft -f`, and what a person
// expects from `nft list`.
import { isAllOnes } from '../build/addr.js';
import { priorityName } from '../names.js';
import { quoteName, renderRuleBody } from './rule.js';
import { componentLen, isConcat, keyTypes } from '../wire/set.js';
import type { Chain, NftSet, Rule, SetElement, Table, Verdict } from '../types.js';
import { formatRange, formatValue, split } from '../build/values.js';

export { quoteName } from './rule.js';

/** "1h", "10m", "1m30s500ms": milliseconds as nft writes time. */
export function formatTime(ms: number): string {
  const units: Array<[string, number]> = [
    ['d', 86400000],
    ['h', 3600000],
    ['m', 60000],
    ['s', 1000],
    ['ms', 1],
  ];
  let rest = ms;
  let out = '';
  for (const [u, n] of units) {
    if (rest >= n) {
      out += `${Math.floor(rest / n)}${u}`;
      rest %= n;
    }
  }
  return out || '0s';
}

export function renderVerdict(v: Verdict): string {
  return v.chain !== undefined ? `${v.code} ${quoteName(v.chain)}` : v.code;
}

/** "type nat hook prerouting priority dstnat; policy accept;" for base chains, "" for regular ones. */
export function renderChainHead(c: Chain): string {
  if (c.hook === undefined) return '';
  const prio = c.priority ?? 0;
  const named = priorityName(c.family, prio);
  const useName =
    named === 'filter' ||
    (named === 'dstnat' && (c.hook === 'prerouting' || c.hook === 'output')) ||
    (named === 'srcnat' && (c.hook === 'postrouting' || c.hook === 'input'));
  const dev = c.device !== undefined ? ` device ${JSON.stringify(c.device)}` : '';
  const policy = c.policy !== undefined ? ` policy ${c.policy};` : '';
  return `type ${c.type ?? 'filter'} hook ${c.hook}${dev} priority ${useName ? named : prio};${policy}`;
}

/** A rule's statements; `anon` inlines anonymous sets (see renderRuleset). */
export function renderRule(r: Rule, anon?: (set: string) => string | undefined): string {
  const body = renderRuleBody(r.family, r.exprs, anon);
  const comment = r.comment !== undefined ? ` comment ${JSON.stringify(r.comment)}` : '';
  return `${body}${comment}`.trim();
}

function typeText(s: NftSet): string {
  const key = keyTypes(s).join(' . ');
  return s.data !== undefined ? `${key} : ${s.data}` : key;
}

/** The statements inside "set NAME { ... }", without elements. */
export function renderSetLines(s: NftSet): string[] {
  const lines = [`type ${typeText(s)}`];
  const flags = (s.flags ?? []).filter((f) => f !== 'anonymous' && !(f === 'timeout' && s.timeout !== undefined));
  if (flags.length) lines.push(`flags ${flags.join(',')}`);
  if (s.timeout !== undefined) lines.push(`timeout ${formatTime(s.timeout)}`);
  if (s.gcInterval !== undefined) lines.push(`gc-interval ${formatTime(s.gcInterval)}`);
  if (s.size !== undefined) lines.push(`size ${s.size}`);
  if (s.policy === 'memory') lines.push('policy memory');
  if (s.comment !== undefined) lines.push(`comment ${JSON.stringify(s.comment)}`);
  return lines;
}

function keyText(s: NftSet, e: SetElement): string {
  const types = keyTypes(s);
  const interval = s.flags?.includes('interval') ?? false;
  if (!isConcat(s)) {
    const t = types[0];
    if (!interval || !e.keyEnd) return formatValue(t, e.key);
    return isAllOnes(e.keyEnd) && isAllOnes(e.key) ? formatValue(t, e.key) : formatRange(t, e.key, e.keyEnd);
  }
  const lens = types.map((t) => componentLen(t, s));
  const from = split(e.key, lens);
  const to = e.keyEnd ? split(e.keyEnd, lens) : from;
  return types.map((t, i) => formatRange(t, from[i], to[i])).join(' . ');
}

export function renderElement(s: NftSet, e: SetElement): string {
  let out = keyText(s, e);
  if (e.timeout !== undefined) out += ` timeout ${formatTime(e.timeout)}`;
  if (e.comment !== undefined) out += ` comment ${JSON.stringify(e.comment)}`;
  if (e.verdict) out += ` : ${renderVerdict(e.verdict)}`;
  else if (e.data && s.data !== undefined && s.data !== 'verdict') out += ` : ${formatValue(s.data, e.data)}`;
  return out;
}

/** "{ a, b : c }" */
export function renderElements(s: NftSet, elems: readonly SetElement[], limit = Infinity): string {
  const shown = elems.slice(0, limit).map((e) => renderElement(s, e));
  if (elems.length > limit) shown.push(`... ${elems.length - limit} more`);
  return `{ ${shown.join(', ')} }`;
}

export interface Ruleset {
  tables: Table[];
  chains: Chain[];
  sets: NftSet[];
  rules: Rule[];
  /** Elements by set, keyed "family table set". */
  elements?: Map<string, SetElement[]>;
}

export const setKey = (s: { family: string; table: string; name: string }) => `${s.family} ${s.table} ${s.name}`;

/** A whole ruleset in `nft list ruleset` layout (valid `nft -f` input). */
export function renderRuleset(rs: Ruleset): string {
  const out: string[] = [];
  for (const t of rs.tables) {
    out.push(`table ${t.family} ${quoteName(t.name)} {`);
    const blocks: string[][] = [];
    if (t.flags?.length) blocks.push([`\tflags ${t.flags.join(',')}`]);
    for (const s of rs.sets.filter((x) => x.family === t.family && x.table === t.name && !x.flags?.includes('anonymous'))) {
      const lines = [`\t${s.data !== undefined ? 'map' : 'set'} ${quoteName(s.name)} {`, ...renderSetLines(s).map((l) => `\t\t${l}`)];
      const elems = rs.elements?.get(setKey(s));
      if (elems?.length) lines.push(`\t\telements = ${renderElements(s, elems)}`);
      blocks.push([...lines, '\t}']);
    }
    const anon = (name: string): string | undefined => {
      const s = rs.sets.find((x) => x.family === t.family && x.table === t.name && x.name === name);
      const elems = s?.flags?.includes('anonymous') ? rs.elements?.get(setKey(s)) : undefined;
      return s && elems ? renderElements(s, elems) : undefined;
    };
    for (const c of rs.chains.filter((x) => x.family === t.family && x.table === t.name)) {
      const lines = [`\tchain ${quoteName(c.name)} {`];
      const head = renderChainHead(c);
      if (head) lines.push(`\t\t${head}`);
      for (const r of rs.rules.filter((x) => x.family === t.family && x.table === t.name && x.chain === c.name)) {
        lines.push(`\t\t${renderRule(r, anon)}`);
      }
      blocks.push([...lines, '\t}']);
    }
    out.push(blocks.map((b) => b.join('\n')).join('\n\n'));
    out.push('}');
  }
  return out.filter((l) => l !== '').join('\n') + (out.length ? '\n' : '');
}
