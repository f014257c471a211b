// etcd as the tests see it, through etcd's own JSON gateway (POST /v3/kv/range),
// not through the etcd3 client the store uses: an independent oracle of what
// keys are there, their sizes and revisions.

export interface OracleKv {
  key: string;
  value: string;
  modRevision: number;
}

interface RangeJson {
  header: { revision: string };
  kvs?: { key: string; value?: string; mod_revision: string }[];
}

const b64 = (s: string) => Buffer.from(s).toString('base64');

/** Every key under `prefix` and the store's revision. */
export async function rangePrefix(url: string, prefix: string): Promise<{ revision: number; kvs: OracleKv[] }> {
  const end = Buffer.from(prefix);
  end[end.length - 1]++;
  const res = await fetch(`${url}/v3/kv/range`, {
    method: 'POST',
    body: JSON.stringify({ key: b64(prefix), range_end: end.toString('base64') }),
  });
  if (!res.ok) throw new Error(`etcd range ${prefix}: HTTP ${res.status} ${await res.text()}`);
  const j = (await res.json()) as RangeJson;
  return {
    revision: Number(j.header.revision),
    kvs: (j.kvs ?? []).map((kv) => ({
      key: Buffer.from(kv.key, 'base64').toString(),
      value: Buffer.from(kv.value ?? '', 'base64').toString(),
      modRevision: Number(kv.mod_revision),
    })),
  };
}

/** etcd's current revision (of the whole store). */
export async function etcdRevision(url: string): Promise<number> {
  return (await rangePrefix(url, '/')).revision;
}

/** Compacts etcd's history up to `revision`. */
export async function compact(url: string, revision: number): Promise<void> {
  const res = await fetch(`${url}/v3/kv/compaction`, { method: 'POST', body: JSON.stringify({ revision: String(revision), physical: true }) });
  if (!res.ok) throw new Error(`etcd compaction ${revision}: HTTP ${res.status} ${await res.text()}`);
}

/** Puts one key (a writer that is not eucanet). */
export async function putKey(url: string, key: string, value: string): Promise<number> {
  const res = await fetch(`${url}/v3/kv/put`, { method: 'POST', body: JSON.stringify({ key: b64(key), value: b64(value) }) });
  if (!res.ok) throw new Error(`etcd put ${key}: HTTP ${res.status} ${await res.text()}`);
  return Number(((await res.json()) as RangeJson).header.revision);
}
