#!/usr/bin/env node
// eucanet: the command line, a thin shell over the library. The commands and
// their options are in commands.ts; `eucanet help` lists them.
import { readFileSync } from 'node:fs';
import { EXIT_FAIL, EXIT_OK, UsageError, errorLine, exitCodeOf } from './output.js';
import { commandHelp, mainHelp, parseCommandLine } from './parse.js';
import { phase, phaseCpuTimes, phaseFaults, phaseTimes, phasesOn } from '../util/phases.js';
import { streamsMade, writeErr, writeOut } from './stdio.js';

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

export async function main(argv: string[]): Promise<number> {
  phase('boot');
  const p = parseCommandLine(argv);
  if (p.kind === 'version') {
    writeOut(`eucanet ${version()}\n`);
    return EXIT_OK;
  }
  if (p.kind === 'help') {
    writeOut(p.command ? commandHelp(p.command) : mainHelp());
    return EXIT_OK;
  }
  const { values, positionals } = p;
  if (['apply', 'show', 'down', 'agent'].includes(p.command.name) && values.netns !== undefined) {
    (await import('./netns.js')).checkNetnsOption(values.netns);
  }
  switch (p.command.name) {
    case 'apply': {
      const cmd = await import('./apply.js');
      phase('modules');
      return cmd.apply(values);
    }
    case 'show':
      return (await import('./show.js')).show(values);
    case 'down':
      return (await import('./down.js')).down(values);
    case 'allocate':
      return (await import('./allocate.js')).allocateCmd(values);
    case 'agent':
      return (await import('./agent.js')).agentCmd(values);
    case 'demo':
      return (await import('./demo.js')).demo(values, positionals);
    case 'run-instance':
    case 'terminate-instance':
      return (await import('./instances.js')).instanceCommand(p.command.name, values);
    case 'create-group':
    case 'delete-group':
    case 'authorize':
    case 'revoke':
      return (await import('./groups.js')).groupCommand(p.command.name, values, positionals);
    case 'cloud':
      return (await import('./cloud.js')).cloudCommand(values, positionals);
    case 'allocate-address':
    case 'associate-address':
    case 'disassociate-address':
    case 'release-address':
      return (await import('./addresses.js')).addressCommand(p.command.name, values);
    case 'status':
      return (await import('./status.js')).statusCmd(values);
    default:
      throw new UsageError(`unknown command "${p.command.name}"`);
  }
}

/** With EUCANET_PHASES set: the phases' wall-clock and CPU times as one JSON line on stderr (src/util/phases.ts). */
function printPhases(): void {
  if (!phasesOn()) return;
  phase('output');
  writeErr(`${JSON.stringify({ phases: phaseTimes(), cpu: phaseCpuTimes(), faults: phaseFaults() })}\n`);
}

/**
 * Resolves once everything written to the stream has left the process. Files
 * and terminals are written synchronously; a pipe is not: libuv writes what
 * the pipe takes at once (64 KiB) and queues the rest, which process.exit
 * would drop. A write's callback runs after every earlier write is done.
 */
function flushed(stream: NodeJS.WriteStream): Promise<void> {
  if (stream.writableLength === 0) return Promise.resolve();
  return new Promise((resolve) => stream.write('', () => resolve()));
}

/** Exits with `code` once stdout and stderr are flushed (those that became streams: stdio.ts). */
async function exitFlushed(code: number): Promise<never> {
  await Promise.all(streamsMade().map(flushed));
  process.exit(code);
}

// Once the command is done and has said so, the process ends at once: Node's
// own teardown of a process that ran to its end (the heap, the environment)
// is about 13 ms of a cold `eucanet apply` that nothing needs (issue 19).
// Only what is still queued for a pipe is waited for (exitFlushed).
main(process.argv.slice(2)).then(
  (code) => {
    printPhases();
    return exitFlushed(code);
  },
  (err: unknown) => {
    writeErr(`${errorLine(err)}\n`);
    if (err instanceof UsageError && err.usage) writeErr(`${err.usage}\n`);
    if (process.argv.includes('--verbose') && err instanceof Error) writeErr(`${err.stack}\n`);
    return exitFlushed(exitCodeOf(err) ?? EXIT_FAIL);
  },
);
