/**
 * One short-lived, time-limited command of the lifecycle (a stage, the monitor, a finish hook), run by the one
 * runner (procs' runCommand: own process group, the one kill rule, bounded output). This adds what the
 * lifecycle needs on top: the manifest's command form with positional arguments, and echoing each output line
 * to tend's stdout under a label.
 */
import type { ChildProcess } from 'node:child_process';
import { createLineSplitter } from '../logs/split.js';
import type { EchoTarget } from '../logs/types.js';
import type { Command } from '../manifest/types.js';
import { type RunResult, runCommand as runShort, type UserIds } from '../procs/index.js';
import { argvOf } from '../supervisor/index.js';
import { formatDuration } from '../time/index.js';

/** After SIGTERM, how long the group gets before SIGKILL. */
const KILL_GRACE_MS = 2000;
/** Combined output kept for events: enough to see why a stage failed, small enough for a webhook body. */
export const OUTPUT_TAIL = 4096;
/** stdout kept whole for the monitor's JSON stats; more than this is not a stats object anyone posts. */
const STDOUT_MAX = 256 * 1024;
const MAX_LINE = 16 * 1024;

export interface CommandOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  timeoutMs: number;
  /** run as this user (a service's `user:`, for its finish hook) */
  user?: UserIds;
  /** positional arguments ($1, $2 … for a shell string, appended to an argv) */
  args?: string[];
  /** echo each output line to tend's stdout under this label (`boot | …`) */
  echo?: { target: EchoTarget; label: string; stdout?: boolean; stderr?: boolean };
  /** kills the group now (tend is stopping) */
  signal?: AbortSignal;
  /** the child once spawned, e.g. to feed its output to a service's log */
  onSpawn?(child: ChildProcess): void;
}

/** How the command ended: procs' RunResult (output is the last OUTPUT_TAIL characters, stdout up to 256 KiB). */
export type CommandResult = RunResult;

/**
 * A plain command line (`./bin/report-exit`) gets the arguments appended, like runit's `finish 1 0`; a
 * shell script with its own syntax (`echo "$1" >> f`) gets them as $1, $2 ….
 */
export function commandArgv(command: Command, args: string[] = []): [string, string[]] {
  if (args.length === 0 || command.kind === 'argv') {
    const [file, rest] = argvOf(command);
    return [file, command.kind === 'argv' ? [...rest, ...args] : rest];
  }
  const script = command.script.trim();
  const plain = /^[\w./:=@%+,-]+(?:\s+[\w./:=@%+,-]+)*$/.test(script);
  return ['/bin/sh', ['-c', plain ? `${script} "$@"` : script, 'sh', ...args]];
}

export function describeResult(r: CommandResult, timeoutMs: number): string {
  if (r.error) return `could not start: ${r.error}`;
  if (r.aborted) return 'interrupted: tend is stopping';
  if (r.timedOut) return `did not finish within ${formatDuration(timeoutMs)}; killed`;
  if (r.signal) return `killed by ${r.signal}`;
  return `exit code ${r.code}`;
}

export async function runCommand(command: Command, opts: CommandOptions): Promise<CommandResult> {
  const [file, args] = commandArgv(command, opts.args);
  const echo = opts.echo;
  const splitters = echo
    ? {
        stdout: echo.stdout !== false ? splitterFor(echo.target, echo.label, 'stdout') : undefined,
        stderr: echo.stderr !== false ? splitterFor(echo.target, echo.label, 'stderr') : undefined,
      }
    : undefined;
  const r = await runShort([file, ...args], {
    cwd: opts.cwd,
    env: opts.env,
    uid: opts.user?.uid,
    gid: opts.user?.gid,
    groups: opts.user?.groups,
    timeoutMs: opts.timeoutMs,
    killAfterMs: KILL_GRACE_MS,
    maxOutput: OUTPUT_TAIL,
    maxStdout: STDOUT_MAX,
    signal: opts.signal,
    onOutput: splitters ? (name, chunk) => splitters[name]?.push(chunk) : undefined,
    onSpawn: opts.onSpawn,
  });
  splitters?.stdout?.end();
  splitters?.stderr?.end();
  return r;
}

function splitterFor(target: EchoTarget, label: string, name: 'stdout' | 'stderr') {
  return createLineSplitter(MAX_LINE, (buf, s, e) => {
    target.write(label, name, buf.toString('utf8', s, e));
  });
}
