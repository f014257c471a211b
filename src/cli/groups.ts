// eucanet create-group, delete-group, authorize, revoke; and the rule as the
// command line gives it (--protocol, --port, --icmp-type, --icmp-code, --cidr
// or --source-group), each value checked and named by its option.
import { ValidationError } from '../errors.js';
import { parseBlock } from '../managed/net.js';
import { authorize, createGroup, deleteGroup, revoke } from '../managed/ops/index.js';
import type { Protocol, Rule } from '../managed/types.js';
import type { CliValues } from './commands.js';
import { groupWord, operationUsage, runOperation } from './operation.js';
import { must } from '../util/must.js';

function int(flag: string, text: string, lo: number, hi: number): number {
  if (!/^-?\d+$/.test(text) || Number(text) < lo || Number(text) > hi) throw new ValidationError(flag, text, `expected a whole number ${lo}-${hi}`);
  return Number(text);
}

function protocol(text: string): Protocol {
  if (text === 'tcp' || text === 'udp' || text === 'icmp') return text;
  if (/^\d+$/.test(text)) return int('--protocol', text, 0, 255);
  throw new ValidationError('--protocol', text, 'expected tcp, udp, icmp or a protocol number 0-255');
}

/** The rule of authorize and revoke, from its options. */
export function ruleFrom(command: string, v: CliValues): Rule {
  const rule: Rule = { protocol: protocol(must(v.protocol, 'the required --protocol')) };
  const ports = rule.protocol === 'tcp' || rule.protocol === 'udp' || rule.protocol === 6 || rule.protocol === 17;
  const icmp = rule.protocol === 'icmp' || rule.protocol === 1;
  if (v.port !== undefined) {
    if (!ports) throw new ValidationError('--port', v.port, `ports apply to tcp and udp only, not ${rule.protocol}`);
    const m = /^([^-]+)(?:-(.+))?$/.exec(v.port);
    if (!m) throw new ValidationError('--port', v.port, 'expected P or P-Q');
    rule.from = int('--port', m[1], 0, 65535);
    if (m[2] !== undefined) rule.to = int('--port', m[2], 0, 65535);
    if (rule.to !== undefined && rule.to < rule.from) throw new ValidationError('--port', v.port, 'the range ends before it starts');
  }
  for (const [flag, key] of [
    ['icmp-type', 'icmpType'],
    ['icmp-code', 'icmpCode'],
  ] as const) {
    const text = v[flag];
    if (text === undefined) continue;
    if (!icmp) throw new ValidationError(`--${flag}`, text, `applies to icmp only, not ${rule.protocol}`);
    rule[key] = int(`--${flag}`, text, -1, 255);
  }
  if ((v.cidr === undefined) === (v['source-group'] === undefined))
    throw operationUsage(command, 'give exactly one source: --cidr CIDR or --source-group OWNER/NAME');
  if (v.cidr !== undefined) {
    parseBlock('--cidr', v.cidr);
    rule.cidr = v.cidr;
  } else rule.sourceGroup = v['source-group'];
  return rule;
}

export async function groupCommand(name: string, v: CliValues, positionals: string[]): Promise<number> {
  const key = groupWord(name, positionals);
  switch (name) {
    case 'create-group':
      return runOperation(v, (s) => createGroup(s, key));
    case 'delete-group':
      return runOperation(v, (s) => deleteGroup(s, key));
    default: {
      const rule = ruleFrom(name, v);
      return runOperation(v, (s) => (name === 'authorize' ? authorize(s, key, rule) : revoke(s, key, rule)));
    }
  }
}
