// The cloud's operations as library calls: run and terminate an instance;
// allocate, associate, disassociate and release a public address; create and
// delete a group; authorize and revoke a rule. Each one is a pure operation on
// the desired state (managed/ops/: checked and allocated), whose result is
// applied, only the difference, to every host it manages (reconcile). If applying fails, the state is left as it was.
// Revoking a rule refills the group's chain inside one atomic nftables batch,
// so new connections are refused at once (established ones keep going, as with
// Eucalyptus' iptables).
import { ValidationError } from '../errors.js';
import type { Netns } from '../netlink/socket.js';
import { allocate } from './allocate.js';
import { applyRole, type ApplyResult } from './apply.js';
import type { Role } from './roles/index.js';
import { formatState, writeFileAtomic } from './statefile.js';
import * as ops from './ops/index.js';
import type { Op, OpResult } from './ops/index.js';
import type { AllocatedInstance, AllocatedState, Group, Instance, Rule, State } from './types.js';
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
   * Runs the operation on the state, applies the result to every host; the new
   * state is kept only if all of that succeeded.
   */
  private async change(op: Op): Promise<OpResult> {
    const result = op(this.doc);
    const before = this.allocated;
    this.allocated = result.allocated;
    try {
      await this.apply();
    } catch (err) {
      this.allocated = before;
      // Put the hosts back to the last good state; the failed commit already rolled its own part back.
      await this.apply().catch(() => undefined);
      throw err;
    }
    this.doc = structuredClone(result.allocated);
    if (this.opts.statePath) await writeFileAtomic(this.opts.statePath, formatState(this.doc));
    return result;
  }

  async runInstance(inst: Instance): Promise<AllocatedInstance> {
    const r = await this.change((d) => ops.runInstance(d, inst));
    return must(
      r.allocated.instances.find((x) => x.id === inst.id),
      `instance ${inst.id} once run`,
    );
  }

  /** Removes the instance; its private and public addresses go back to their pools. */
  async terminateInstance(id: string): Promise<void> {
    await this.change((d) => ops.terminateInstance(d, id));
  }

  /** Takes the lowest free public address out of the pool for later association. */
  async allocateAddress(): Promise<string> {
    const r = await this.change(ops.allocateAddress);
    const c = r.changes[0];
    return must(c?.kind === 'address-allocated' ? c.ip : undefined, 'the allocated address');
  }

  async associateAddress(ip: string, id: string): Promise<void> {
    await this.change((d) => ops.associateAddress(d, ip, id));
  }

  /** The instance loses its public address; the address stays allocated. */
  async disassociateAddress(id: string): Promise<string> {
    const inst = this.doc.instances?.find((x) => x.id === id);
    if (!inst) throw new ValidationError('instance', id, 'no such instance');
    if (typeof inst.publicIp !== 'string') throw new ValidationError('instance', id, 'has no public address');
    const ip = inst.publicIp;
    await this.change((d) => ops.disassociateAddress(d, ip));
    return ip;
  }

  /** Gives an allocated, unassociated address back to the pool. */
  async releaseAddress(ip: string): Promise<void> {
    await this.change((d) => ops.releaseAddress(d, ip));
  }

  async createGroup(g: Group): Promise<void> {
    await this.change((d) => ops.createGroup(d, g));
  }

  async deleteGroup(key: string): Promise<void> {
    await this.change((d) => ops.deleteGroup(d, key));
  }

  /** Adds an ingress rule to a group. */
  async authorize(key: string, rule: Rule): Promise<void> {
    await this.change((d) => ops.authorize(d, key, rule));
  }

  /** Removes an ingress rule (the one equal to `rule`) from a group. */
  async revoke(key: string, rule: Rule): Promise<void> {
    await this.change((d) => ops.revoke(d, key, rule));
  }
}
