// The file store's warm-up versions (FileStore.warmUp): made-up next versions
// of the bytes last read, each with the kind of change an operation writes,
// made by editing the text: one more rule in the first group that has a
// `rules` list (authorize), and the last instance's port renamed (an
// instance changed, as run-instance, associate-address or terminate change
// one). They are read in memory only (parsed, interned, checked), never
// written, so that the first real version of each kind does not pay for
// compiling that path: at 5000 instances the first version's parse and
// interning took 25 ms of CPU against 3 for the ones after it.

/** A rule no state holds (TEST-NET-1), as JSON text. */
const RULE = '{"protocol":"tcp","from":65535,"to":65535,"cidr":"192.0.2.0/24"}';

/** The edited copies of `bytes` that could be made (none when the text has no group rules or instance ports). */
export function warmUpVariants(bytes: Buffer): Buffer[] {
  const text = bytes.toString('latin1');
  const out: Buffer[] = [];
  const rules = /"rules"\s*:\s*\[\s*/.exec(text);
  if (rules) {
    const at = rules.index + rules[0].length;
    const sep = text[at] === ']' ? '' : ',';
    out.push(Buffer.concat([bytes.subarray(0, at), Buffer.from(RULE + sep), bytes.subarray(at)]));
  }
  // The last "port": "NAME" (an instance's, in a state's usual order), NAME
  // given a prefix while it stays a valid interface name (at most 15 bytes).
  const port = lastMatch(text, /"port"\s*:\s*"([A-Za-z0-9_.-]{1,14})"/g);
  if (port) {
    const at = port.index + port[0].length - port[1].length - 1;
    out.push(Buffer.concat([bytes.subarray(0, at), Buffer.from('w'), bytes.subarray(at)]));
  }
  return out;
}

function lastMatch(text: string, re: RegExp): RegExpExecArray | undefined {
  let last: RegExpExecArray | undefined;
  for (let m = re.exec(text); m; m = re.exec(text)) last = m;
  return last;
}
