// A benchmark worker: a Node process driven over IPC, one request at a time.
// With `netns`, it is started inside that namespace through nsenter (the IPC
// channel's fd survives the exec), for libraries that cannot choose one.
import { fork } from 'node:child_process';

export class Worker {
  /**
   * @param {string} script
   * @param {{ netns?: string }} [options]
   */
  constructor(script, { netns } = {}) {
    /** @type {import('node:child_process').ForkOptions} */
    const opts = { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'json' };
    if (netns) Object.assign(opts, { execPath: 'nsenter', execArgv: [`--net=/run/netns/${netns}`, process.execPath] });
    this.child = fork(script, [], opts);
    this.pending = new Map();
    this.seq = 0;
    this.child.on('message', (/** @type {any} */ m) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.error) p.reject(new Error(m.error));
      else p.resolve(m);
    });
    this.child.on('exit', (code, signal) => {
      for (const p of this.pending.values()) p.reject(new Error(`${script} exited (${signal ?? code})`));
      this.pending.clear();
    });
  }

  /**
   * @param {string} cmd
   * @param {object} [args]
   * @returns {Promise<any>}
   */
  call(cmd, args = {}) {
    const id = ++this.seq;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.child.send({ id, cmd, ...args });
    });
  }

  stop() {
    if (this.child.connected) this.child.disconnect();
    return new Promise((/** @type {(v?: unknown) => void} */ resolve) =>
      this.child.exitCode !== null || this.child.signalCode !== null ? resolve() : this.child.once('exit', resolve),
    );
  }
}
