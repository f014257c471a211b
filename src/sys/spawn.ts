// A long-lived program started inside a network namespace without forking
// Node (native/spawn.cc): the cluster controller's dnsmasq. child_process
// forks, and on a VM every page Node writes after a fork then faults once
// (13 to 14 us each here): 1,100 to 1,500 more page faults and 20 to 40 ms
// more for a cold `eucanet apply --role cc` of 1000 instances (issue 19). The child
// starts in the namespace itself, so no nsenter runs in between.
import { EventEmitter } from 'node:events';
import { constants } from 'node:os';
import { addon, nativeError, type NativeNetns } from '../native.js';

const signalNames = new Map<number, NodeJS.Signals>(Object.entries(constants.signals).map(([name, n]) => [n, name as NodeJS.Signals]));

export interface SpawnOptions {
  /** The namespace to start it in: a file path or an fd of this process; undefined for this one. */
  netns?: string | number;
  /** Descriptors for its stdin, stdout and stderr (undefined: /dev/null). */
  stdio?: [number | undefined, number | undefined, number | undefined];
  /** Its whole environment. */
  env: NodeJS.ProcessEnv;
  cwd?: string;
}

/**
 * A started program: its pid, and once it has ended (and been reaped) its
 * exitCode or signalCode, as child_process's ChildProcess has them, and one
 * 'exit' event (code, signal). It never keeps the event loop alive.
 */
export class SpawnedProcess extends EventEmitter<{ exit: [code: number | null, signal: NodeJS.Signals | null] }> {
  exitCode: number | null = null;
  signalCode: NodeJS.Signals | null = null;
  /** Reaped (a signal with no name leaves both codes null). */
  private done = false;
  private watch?: { close(): void; check(): void };

  constructor(
    readonly pid: number,
    pidfd: number,
  ) {
    super();
    if (pidfd >= 0) {
      this.watch = new addon.ExitWatch(pidfd, (code, signal) => {
        this.watch = undefined;
        this.done = true;
        this.exitCode = code;
        this.signalCode = signal ? (signalNames.get(signal) ?? null) : null;
        this.emit('exit', this.exitCode, this.signalCode);
      });
    }
  }

  /**
   * Whether it has ended: if so, reaped now and its 'exit' emitted before this
   * returns (the event loop would hear it only at its next poll).
   */
  ended(): boolean {
    this.watch?.check();
    return this.done;
  }

  /** Stops watching for the exit (no 'exit' event comes afterwards). */
  close(): void {
    this.watch?.close();
    this.watch = undefined;
  }
}

/** Starts `file` with `args` (argv[0] is `file`); throws an Error naming the call and errno when it cannot. */
export function spawnInNetns(file: string, args: readonly string[], o: SpawnOptions): SpawnedProcess {
  const envp = Object.entries(o.env).flatMap(([k, v]) => (v === undefined ? [] : [`${k}=${v}`]));
  const stdio = (o.stdio ?? [undefined, undefined, undefined]).map((fd) => fd ?? -1) as [number, number, number];
  const netns: NativeNetns = o.netns ?? null;
  let r: { pid: number; pidfd: number };
  try {
    r = addon.spawnInNetns(netns, file, [file, ...args], envp, stdio, o.cwd ?? '/');
  } catch (err) {
    throw nativeError(err, `start ${file}`, new Error());
  }
  return new SpawnedProcess(r.pid, r.pidfd);
}
