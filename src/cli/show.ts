// eucanet show: what eucanet owns on this host.
import { open } from '../handle.js';
import { formatHostView, readHostView } from '../managed/show.js';
import { EXIT_OK } from './output.js';
import type { CliValues } from './main.js';

export async function show(v: CliValues): Promise<number> {
  const h = open(v.netns ? { netns: v.netns } : {});
  try {
    const view = await readHostView(h);
    process.stdout.write(v.json ? `${JSON.stringify(view, null, 2)}\n` : formatHostView(view));
    return EXIT_OK;
  } finally {
    h.close();
  }
}
