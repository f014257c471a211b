// Checking a batch's names against the kernel before sending it: every rule's
// table and chain, every jump and goto target, every set a rule looks up or
// an element op fills must exist, either already or earlier in the batch.
// The kernel would refuse such a batch too (ENOENT); checked here, the error
// is a ValidationError naming the op and the missing name, and nothing is
// sent. The check reads the ruleset generation first, so a commit made with
// it fails cleanly (ERESTART) if the ruleset changed in between.
import { ValidationError } from '../errors.js';
import type { NetlinkConnection } from '../netlink/socket.js';
import { getGeneration, listChains, listSets, listTables } from './list.js';
import type { Op } from './wire/ops.js';
import type { Expr } from './types.js';

type Model = Set<string>;
const T = (f: string, t: string) => `${f} ${t}`;
const C = (f: string, t: string, c: string) => `${f} ${t} chain ${c}`;
const S = (f: string, t: string, s: string) => `${f} ${t} set ${s}`;

function need(m: Model, key: string, i: number, field: string, value: string, what: string): void {
  if (!m.has(key)) {
    throw new ValidationError(`op #${i} ${field}`, value, `no such ${what} (neither in the kernel nor earlier in this batch)`);
  }
}

function dropTable(m: Model, table: string): void {
  for (const k of [...m]) if (k === table || k.startsWith(`${table} `)) m.delete(k);
}

function checkExprs(m: Model, exprs: readonly Expr[], f: string, t: string, i: number): void {
  for (const e of exprs) {
    if (e.kind === 'immediate' && e.verdict?.chain !== undefined) {
      need(m, C(f, t, e.verdict.chain), i, `${e.verdict.code} target`, e.verdict.chain, `chain in table ${f} ${t}`);
    }
    if (e.kind === 'lookup') need(m, S(f, t, e.set), i, 'set', e.set, `set in table ${f} ${t}`);
  }
}

/** Applies op `i` to the name model, throwing if it names something missing. */
function step(m: Model, op: Op, i: number): void {
  switch (op.kind) {
    case 'table': {
      const k = T(op.table.family, op.table.name);
      if (op.verb === 'delete') {
        need(m, k, i, 'table', op.table.name, `table in family ${op.table.family}`);
        dropTable(m, k);
      } else m.add(k);
      return;
    }
    case 'chain': {
      const c = op.chain;
      need(m, T(c.family, c.table), i, 'table', c.table, `table in family ${c.family}`);
      if (op.verb === 'delete') {
        need(m, C(c.family, c.table, c.name), i, 'chain', c.name, `chain in table ${c.family} ${c.table}`);
        m.delete(C(c.family, c.table, c.name));
      } else m.add(C(c.family, c.table, c.name));
      return;
    }
    case 'rule': {
      const r = op.rule;
      need(m, T(r.family, r.table), i, 'table', r.table, `table in family ${r.family}`);
      need(m, C(r.family, r.table, r.chain), i, 'chain', r.chain, `chain in table ${r.family} ${r.table}`);
      return checkExprs(m, r.exprs, r.family, r.table, i);
    }
    case 'rule-delete': {
      const r = op.ref;
      need(m, T(r.family, r.table), i, 'table', r.table, `table in family ${r.family}`);
      if (r.chain !== undefined) need(m, C(r.family, r.table, r.chain), i, 'chain', r.chain, `chain in table ${r.family} ${r.table}`);
      return;
    }
    case 'set': {
      const s = op.set;
      need(m, T(s.family, s.table), i, 'table', s.table, `table in family ${s.family}`);
      if (op.verb === 'delete') {
        need(m, S(s.family, s.table, s.name), i, 'set', s.name, `set in table ${s.family} ${s.table}`);
        m.delete(S(s.family, s.table, s.name));
      } else m.add(S(s.family, s.table, s.name));
      return;
    }
    case 'set-flush':
    case 'elements': {
      const s = op.set;
      need(m, S(s.family, s.table, s.name), i, 'set', s.name, `set in table ${s.family} ${s.table}`);
      return;
    }
  }
}

/** Checks `ops` against the kernel's tables, chains and sets; returns the generation it checked against. */
export async function verifyOps(conn: NetlinkConnection, ops: readonly Op[]): Promise<number> {
  const genid = await getGeneration(conn);
  const m: Model = new Set();
  for (const t of await listTables(conn)) m.add(T(t.family, t.name));
  for (const c of await listChains(conn)) m.add(C(c.family, c.table, c.name));
  for (const s of await listSets(conn)) m.add(S(s.family, s.table, s.name));
  ops.forEach((op, i) => step(m, op, i));
  return genid;
}
