// The interfaces an agent's last sync found (preflight's lookups of the
// NICs and bridges its role needs, by name with their ifindex), kept for the
// next incremental sync while no link event named one of them: a version
// that changes nothing about interfaces then sends no lookup at all. Any
// event that could have changed them (a link event naming one by name or
// ifindex, lost events) starts a new epoch, and the next sync looks again.
// A peer-only sync (peer-sync.ts) adds the VXLAN devices it looked up, so
// that the next one sends its FDB request without a lookup before it.

export type Interfaces = ReadonlyMap<string, number>;

export class KnownInterfaces {
  /** Counts link events that named a known interface, and resyncs. */
  private epoch = 0;
  /** What the last sync found, and the epoch when it started. */
  private known?: { epoch: number; interfaces: Interfaces };
  /** What the last sync found, kept while a sync runs (undefined: nothing yet, every link event counts). */
  private watched?: Interfaces;

  /** A link event (deleted, renamed, changed): the next sync looks again if it names a known interface. */
  onLink(link: { index: number; name: string }): void {
    const known = this.watched;
    if (!known || known.has(link.name)) this.epoch++;
    else for (const index of known.values()) if (index === link.index) return void this.epoch++;
  }

  /** Events were lost: nothing known can be trusted. */
  invalidate(): void {
    this.epoch++;
  }

  /** The interfaces still valid now (undefined if an event named one since they were found). */
  peek(): Interfaces | undefined {
    return this.known?.epoch === this.epoch ? this.known.interfaces : undefined;
  }

  /** At a sync's start: what is still valid, and the epoch to record() its findings under (they are forgotten meanwhile). */
  take(): { epoch: number; interfaces: Interfaces | undefined } {
    const out = { epoch: this.epoch, interfaces: this.peek() };
    this.known = undefined;
    return out;
  }

  /** What a sync that started at `epoch` found: valid for the next one unless an event came since. */
  record(epoch: number, interfaces: Interfaces): void {
    this.known = { epoch, interfaces };
    this.watched = interfaces;
  }
}
