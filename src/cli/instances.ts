// eucanet run-instance, terminate-instance.
import { runInstance, terminateInstance } from '../managed/ops/index.js';
import type { Instance } from '../managed/types.js';
import type { CliValues } from './commands.js';
import { runOperation } from './operation.js';
import { must } from '../util/must.js';

export async function instanceCommand(name: string, v: CliValues): Promise<number> {
  const id = must(v.id, 'the required --id');
  if (name === 'terminate-instance') return runOperation(v, (s) => terminateInstance(s, id));
  const inst: Instance = { id, group: must(v.group, 'the required --group'), node: must(v.node, 'the required --node') };
  if (v.port !== undefined) inst.port = v.port;
  if (v['public-ip'] !== undefined) inst.publicIp = v['public-ip'] === 'auto' ? true : v['public-ip'];
  return runOperation(v, (s) => runInstance(s, inst));
}
