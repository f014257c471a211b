// Renders batch ops as nft commands ("add rule ip nat prerouting ..."), one
// per line: a dry run that `nft -f` accepts, and the text errors name.
import type { Op } from '../wire/ops.js';
import type { Chain, NftSet, Rule, Table } from '../types.js';
import { renderChainHead, renderElements, renderRule, renderSetLines, quoteName } from './ruleset.js';

function where(o: { family: string; table: string }, name?: string): string {
  return `${o.family} ${quoteName(o.table)}${name !== undefined ? ` ${quoteName(name)}` : ''}`;
}

/** One op as an nft command; `elementLimit` shortens long element lists (for error messages). */
export function renderOp(op: Op, elementLimit = Infinity): string {
  switch (op.kind) {
    case 'table': {
      const t = op.table;
      const flags = t.flags?.length && op.verb !== 'delete' ? ` { flags ${t.flags.join(',')}; }` : '';
      return `${op.verb} table ${t.family} ${quoteName(t.name)}${flags}`;
    }
    case 'chain': {
      const c = op.chain;
      const head = op.verb !== 'delete' ? renderChainHead(c) : '';
      return `${op.verb} chain ${where(c, c.name)}${head ? ` { ${head} }` : ''}`;
    }
    case 'rule': {
      const r = op.rule;
      const verb = op.verb === 'append' ? 'add' : op.verb;
      const pos = op.position !== undefined ? ` position ${op.position}` : '';
      const handle = op.verb === 'replace' ? ` handle ${r.handle}` : '';
      return `${verb} rule ${where(r, r.chain)}${pos}${handle} ${renderRule(r)}`;
    }
    case 'rule-delete': {
      const r = op.ref;
      if (op.verb === 'delete') return `delete rule ${where(r, r.chain)} handle ${r.handle}`;
      return r.chain !== undefined ? `flush chain ${where(r, r.chain)}` : `flush table ${r.family} ${quoteName(r.table)}`;
    }
    case 'set': {
      const s = op.set;
      const word = s.data !== undefined ? 'map' : 'set';
      if (op.verb === 'delete') return `delete ${word} ${where(s, s.name)}`;
      return `${op.verb} ${word} ${where(s, s.name)} { ${renderSetLines(s).join('; ')}; }`;
    }
    case 'set-flush':
      return `flush ${op.set.data !== undefined ? 'map' : 'set'} ${where(op.set, op.set.name)}`;
    case 'elements':
      return `${op.verb} element ${where(op.set, op.set.name)} ${renderElements(op.set, op.elements, elementLimit)}`;
  }
}

/** A short description for error messages. */
export function describeOp(op: Op): string {
  return renderOp(op, 3);
}

export function renderBatch(ops: readonly Op[]): string {
  return ops.map((op) => renderOp(op)).join('\n') + (ops.length ? '\n' : '');
}

/** Any object as the nft command that creates it ("add table ip nat", "add rule ip nat prerouting ..."). */
export function render(o: Table | Chain | Rule | NftSet): string {
  if ('exprs' in o) return renderOp({ kind: 'rule', verb: 'append', rule: o });
  if ('key' in o) return renderOp({ kind: 'set', verb: 'add', set: o, id: 0 });
  if ('table' in o) return renderOp({ kind: 'chain', verb: 'add', chain: o });
  return renderOp({ kind: 'table', verb: 'add', table: o });
}
