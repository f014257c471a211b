// eucanet allocate-address, associate-address, disassociate-address, release-address.
import { allocateAddress, associateAddress, disassociateAddress, releaseAddress } from '../managed/ops/index.js';
import type { CliValues } from './commands.js';
import { runOperation } from './operation.js';
import { must } from '../util/must.js';

export async function addressCommand(name: string, v: CliValues): Promise<number> {
  if (name === 'allocate-address') return runOperation(v, allocateAddress);
  const ip = must(v.ip, 'the required --ip');
  if (name === 'associate-address') {
    const id = must(v.instance, 'the required --instance');
    return runOperation(v, (s) => associateAddress(s, ip, id));
  }
  return runOperation(v, (s) => (name === 'release-address' ? releaseAddress(s, ip) : disassociateAddress(s, ip)));
}
