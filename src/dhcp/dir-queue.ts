// One queue per DHCP state directory, shared by every DhcpServer on it (an
// agent makes one per sync): operations on a directory run one at a time, in
// call order, whichever object asked.

const queues = new Map<string, Promise<unknown>>();
/** Per state directory, how many host changes updateHosts made (a later one's rewrite covers an earlier one's). */
const changes = new Map<string, number>();

/** Runs `fn` once every operation queued on `dir` before it has settled. */
export function serialOn<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  const run = (queues.get(dir) ?? Promise.resolve()).then(fn, fn);
  const tail = run.then(
    () => undefined,
    () => undefined,
  );
  queues.set(dir, tail);
  void tail.then(() => queues.get(dir) === tail && queues.delete(dir));
  return run;
}

/** Counts one more host change on `dir`; the function returned tells whether it is still the last one. */
export function nextChange(dir: string): () => boolean {
  const gen = (changes.get(dir) ?? 0) + 1;
  changes.set(dir, gen);
  return () => changes.get(dir) === gen;
}
