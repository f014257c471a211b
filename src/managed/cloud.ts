// The cloud's operations as library calls: run and terminate an instance;
// allocate, associate, disassociate and release a public address; create and
// delete a group; authorize and revoke a rule. Each one changes the desired
// state, checks and allocates it, and applies only the difference to every
// host it manages (reconcile). If applying fails, the state is left as it was.
// Revoking a rule refills the group's chain inside one atomic nftables batch,
// so new connections are refused at once (established ones keep going, as with
// Eucalyptus' iptables).
import { isDeepStrictEqual } from 'node:util';
import { ValidationError } from '../errors.js';
import type { Netns } from '../netlink/socket.js';
import { allocate, nextPublicIp } from './allocate.js';
import { applyRole, type ApplyResult } from './apply.js';
import type { Role } from './roles/index.js';
import { formatState, writeFileAtomic } from './statefile.js';
import { groupKey, type AllocatedInstance, type AllocatedState, type Group, type Instance, type Rule, type State } from './types.js';
import { must } from '../util/must.js';

/** One host this process configures: its role and its namespace. */
export interface Host {
  role: Role;
  netns?: Netns;
}

export interface CloudOptions {
  /** Where to keep the state document; written atomically after every successful operation. */
  statePath?: string;
}

export class ManagedCloud {
  private doc: State;
  private allocated: AllocatedState;

  constructor(
    doc: State,
    readonly hosts: Host[],
    private readonly opts: CloudOptions = {},
  ) {
    this.allocated = allocate(doc);
    this.doc = structuredClone(this.allocated);
  }

  /** The current, fully allocated state. */
  get state(): AllocatedState {
    return this.allocated;
  }

  /** Applies the current state to every host. */
  async apply(): Promise<ApplyResult[]> {
    const out: ApplyResult[] = [];
    for (const h of this.hosts) out.push(await applyRole(this.allocated, h.role, h.netns !== undefined ? { netns: h.netns } : {}));
    return out;
  }

  /**
   * Changes the state with `edit`, allocates it, applies it to every host; the
   * new state is kept only if all of that succeeded.
   */
  private async change(edit: (d: State) => void): Promise<AllocatedState> {
    const next = structuredClone(this.doc);
    edit(next);
    const allocated = allocate(next);
    const before = this.allocated;
    this.allocated = allocated;
    try {
      await this.apply();
    } catch (err) {
      this.allocated = before;
      // Put the hosts back to the last good state; the failed commit already rolled its own part back.
      await this.apply().catch(() => undefined);
      throw err;
    }
    this.doc = structuredClone(allocated);
    if (this.opts.statePath) await writeFileAtomic(this.opts.statePath, formatState(this.doc));
    return allocated;
  }

  private instanceIndex(d: State, id: string): number {
    const i = (d.instances ?? []).findIndex((x) => x.id === id);
    if (i < 0) throw new ValidationError('instance', id, 'no such instance');
    return i;
  }

  private group(d: State, key: string): Group {
    const g = (d.groups ?? []).find((x) => groupKey(x) === key);
    if (!g) throw new ValidationError('group', key, 'no such group');
    return g;
  }

  async runInstance(inst: Instance): Promise<AllocatedInstance> {
    const s = await this.change((d) => (d.instances = [...(d.instances ?? []), inst]));
    return must(
      s.instances.find((x) => x.id === inst.id),
      `instance ${inst.id} once run`,
    );
  }

  /** Removes the instance; its private and public addresses go back to their pools. */
  async terminateInstance(id: string): Promise<void> {
    await this.change((d) => (d.instances ?? []).splice(this.instanceIndex(d, id), 1));
  }

  /** Takes the lowest free public address out of the pool for later association. */
  async allocateAddress(): Promise<string> {
    const ip = nextPublicIp(this.doc);
    await this.change((d) => (d.reservedIps = [...(d.reservedIps ?? []), ip]));
    return ip;
  }

  async associateAddress(ip: string, id: string): Promise<void> {
    await this.change((d) => {
      const reserved = d.reservedIps ?? [];
      if (!reserved.includes(ip)) throw new ValidationError('address', ip, 'is not allocated (allocateAddress first)');
      const inst = (d.instances ?? [])[this.instanceIndex(d, id)];
      if (typeof inst.publicIp === 'string') throw new ValidationError('instance', id, `already has public address ${inst.publicIp}`);
      d.reservedIps = reserved.filter((x) => x !== ip);
      inst.publicIp = ip;
    });
  }

  /** The instance loses its public address; the address stays allocated. */
  async disassociateAddress(id: string): Promise<string> {
    let ip = '';
    await this.change((d) => {
      const inst = (d.instances ?? [])[this.instanceIndex(d, id)];
      if (typeof inst.publicIp !== 'string') throw new ValidationError('instance', id, 'has no public address');
      ip = inst.publicIp;
      delete inst.publicIp;
      d.reservedIps = [...(d.reservedIps ?? []), ip];
    });
    return ip;
  }

  /** Gives an allocated, unassociated address back to the pool. */
  async releaseAddress(ip: string): Promise<void> {
    await this.change((d) => {
      if (!(d.reservedIps ?? []).includes(ip)) throw new ValidationError('address', ip, 'is not allocated, or is still associated');
      d.reservedIps = (d.reservedIps ?? []).filter((x) => x !== ip);
    });
  }

  async createGroup(g: Group): Promise<void> {
    await this.change((d) => (d.groups = [...(d.groups ?? []), g]));
  }

  async deleteGroup(key: string): Promise<void> {
    await this.change((d) => {
      this.group(d, key);
      const users = (d.instances ?? []).filter((i) => i.group === key).map((i) => i.id);
      if (users.length) throw new ValidationError('group', key, `still has instances: ${users.join(', ')}`);
      d.groups = (d.groups ?? []).filter((x) => groupKey(x) !== key);
    });
  }

  /** Adds an ingress rule to a group. */
  async authorize(key: string, rule: Rule): Promise<void> {
    await this.change((d) => {
      const g = this.group(d, key);
      g.rules = [...(g.rules ?? []), rule];
    });
  }

  /** Removes an ingress rule (the one equal to `rule`) from a group. */
  async revoke(key: string, rule: Rule): Promise<void> {
    await this.change((d) => {
      const g = this.group(d, key);
      const canon = (r: Rule) => ({ icmpType: -1, icmpCode: -1, ...r, to: r.to ?? r.from });
      const i = (g.rules ?? []).findIndex((r) => isDeepStrictEqual(canon(r), canon(rule)));
      if (i < 0) throw new ValidationError('rule', rule, `group ${key} has no such rule`);
      (g.rules ?? []).splice(i, 1);
    });
  }
}
