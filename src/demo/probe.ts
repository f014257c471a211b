// Does this kernel do 802.1Q? Asked in a throw-away namespace through the
// library: a veth, and a VLAN device on it. The host's own links are never touched.
import { open } from '../handle.js';
import { isNotSupported } from '../errors.js';
import { createNetns, deleteNetns } from '../sys/netns.js';
import type { Segmentation } from '../managed/types.js';

export interface VlanProbe {
  supported: boolean;
  /** Why not, when not: the kernel's answer. */
  reason?: string;
}

export async function probeVlan(): Promise<VlanProbe> {
  const ns = `euca-probe-${process.pid}`;
  createNetns(ns);
  const h = open({ netns: ns });
  try {
    await h.links.add({ kind: 'veth', name: 'p0', peer: 'p1' });
    try {
      await h.links.add({ kind: 'vlan', name: 'p0.10', parent: 'p0', id: 10 });
      return { supported: true };
    } catch (err) {
      if (!isNotSupported(err)) throw err;
      const e = err as { code?: string; message: string };
      return { supported: false, reason: e.code ?? e.message };
    }
  } finally {
    h.close();
    deleteNetns(ns);
  }
}

export type SegmentationChoice = Segmentation | 'auto';

/** The segmentation to run, and the one line that says why when auto chose it. */
export async function chooseSegmentation(want: SegmentationChoice): Promise<{ segmentation: Segmentation; why: string }> {
  if (want !== 'auto') return { segmentation: want, why: `segmentation ${want} (as asked)` };
  const p = await probeVlan();
  return p.supported
    ? { segmentation: 'vlan', why: "segmentation auto: this kernel creates 802.1Q devices, so vlan (the seed's design)" }
    : {
        segmentation: 'vxlan',
        why: `segmentation auto: this kernel has no 802.1Q (${p.reason} creating a VLAN device), so vxlan (one VXLAN segment per group, VNI = VLAN)`,
      };
}
