// eucanet show: what eucanet owns on this host.
import { existsSync } from 'node:fs';
import { open } from '../handle.js';
import { allocate } from '../managed/allocate.js';
import { dhcpServerFor } from '../managed/apply.js';
import { formatHostView, hostViewJson, readHostView } from '../managed/show.js';
import { loadState } from '../managed/statefile.js';
import type { CliValues } from './commands.js';
import { inputFile } from './files.js';
import { EXIT_OK } from './output.js';
import { writeOut } from './stdio.js';
import { readEtcdState } from './store-options.js';

export async function show(v: CliValues): Promise<number> {
  const doc = v.etcd !== undefined ? await readEtcdState(v) : v.state ? (await loadState(await inputFile('--state', v.state))).state : undefined;
  const state = doc ? allocate(doc) : undefined;
  const h = open(v.netns ? { netns: v.netns } : {});
  try {
    const dhcp = dhcpServerFor(v.netns);
    // A host that never ran the cluster controller's DHCP has nothing to say about it.
    const view = await readHostView(h, { ...(state ? { state } : {}), ...(existsSync(dhcp.paths.dir) ? { dhcp } : {}) });
    writeOut(v.json ? hostViewJson(view) : formatHostView(view));
    return EXIT_OK;
  } finally {
    h.close();
  }
}
