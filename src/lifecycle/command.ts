/**
 * One short-lived, time-limited command (a stage, the monitor, a finish hook) in its own process group.
 * Unlike a service it is not kept alive: it runs once, its output is kept (bounded) for the event that
 * reports it, and at the timeout or on abort the whole group is killed, so nothing it started outlives it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createLineSplitter } from '../logs/split.js';
import type { EchoTarget } from '../logs/types.js';
import type { Command } from '../manifest/types.js';
import { groupMembers, procAvailable } from '../procs/index.js';
import { argvOf, groupAlive, signalGroup } from '../supervisor/index.js';

/** After SIGTERM, how long the group gets before SIGKILL. */
const KILL_GRACE_MS = 2000;
const POLL_MS = 20;
/** Combined output kept for events: enough to see why a stage failed, small enough for a webhook body. */
export const OUTPUT_TAIL = 4096;
/** stdout kept whole for the monitor's JSON stats; more than this is not a stats object anyone posts. */
const STDOUT_MAX = 256 * 1024;
const MAX_LINE = 16 * 1024;

export interface CommandOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  timeoutMs: number;
  /** positional arguments ($1, $2 … for a shell string, appended to an argv) */
  args?: string[];
  /** echo each output line to tend's stdout under this label (`boot | …`) */
  echo?: { target: EchoTarget; label: string; stdout?: boolean; stderr?: boolean };
  /** kills the group now (tend is stopping) */
  signal?: AbortSignal;
  /** the child once spawned, e.g. to feed its output to a service's log */
  onSpawn?(child: ChildProcess): void;
}

export interface CommandResult {
  ok: boolean;
  code: number | null;
  signal: string | null;
  timedOut: boolean;
  aborted: boolean;
  /** could not be started at all (missing file, bad cwd) */
  error?: string;
  /** the last OUTPUT_TAIL characters of stdout and stderr, interleaved as they came */
  output: string;
  /** stdout, up to 256 KiB */
  stdout: string;
  durationMs: number;
}

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
  if (r.timedOut) return `did not finish within ${fmtDuration(timeoutMs)}; killed`;
  if (r.signal) return `killed by ${r.signal}`;
  return `exit code ${r.code}`;
}

export function fmtDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  if (ms < 60_000) return `${+(ms / 1000).toFixed(1)}s`;
  if (ms < 3_600_000) return `${+(ms / 60_000).toFixed(1)}m`;
  return `${+(ms / 3_600_000).toFixed(1)}h`;
}

/**
 * Whether any process of the group still runs. Zombies don't count: the killed members of a group were
 * re-parented to PID 1, which may take its time to reap them, and they hold nothing.
 */
function groupRunning(pgid: number): boolean {
  if (!groupAlive(pgid)) return false;
  if (!procAvailable()) return true;
  return groupMembers(pgid).length > 0;
}

export function runCommand(command: Command, opts: CommandOptions): Promise<CommandResult> {
  const started = performance.now(); // monotonic: a wall clock step is no duration
  const [file, args] = commandArgv(command, opts.args);
  let output = '';
  let stdout = '';
  let timedOut = false;
  let aborted = false;

  return new Promise<CommandResult>((resolve) => {
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const done = (r: Omit<CommandResult, 'output' | 'stdout' | 'durationMs' | 'timedOut' | 'aborted'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (onAbort) opts.signal?.removeEventListener('abort', onAbort);
      resolve({
        ...r,
        timedOut,
        aborted,
        output: output.slice(-OUTPUT_TAIL),
        stdout,
        durationMs: Math.round(performance.now() - started),
      });
    };
    if (opts.signal?.aborted) {
      aborted = true;
      return done({ ok: false, code: null, signal: null });
    }

    // Own session and group (like a service): the timeout reaches whatever the script started, and a
    // Ctrl-C in a terminal reaches tend only.
    const child = spawn(file, args, {
      cwd: opts.cwd,
      env: opts.env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const pid = child.pid;
    let killing = false;
    const kill = () => {
      if (pid === undefined || killing) return;
      killing = true;
      signalGroup(pid, 'SIGTERM');
      setTimeout(() => signalGroup(pid, 'SIGKILL'), KILL_GRACE_MS).unref();
    };
    timer = setTimeout(() => {
      timedOut = true;
      kill();
    }, opts.timeoutMs);
    onAbort = () => {
      aborted = true;
      kill();
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });

    const collect = (name: 'stdout' | 'stderr') => {
      const echo = opts.echo && opts.echo[name] !== false ? opts.echo : undefined;
      const splitter = echo
        ? createLineSplitter(MAX_LINE, (buf, s, e) => {
            echo.target.write(echo.label, name, buf.toString('utf8', s, e));
          })
        : undefined;
      const stream = child[name];
      stream?.on('data', (chunk: Buffer) => {
        const text = chunk.toString('utf8');
        output = (output + text).slice(-OUTPUT_TAIL * 2);
        if (name === 'stdout' && stdout.length < STDOUT_MAX)
          stdout += text.slice(0, STDOUT_MAX - stdout.length);
        splitter?.push(chunk);
      });
      stream?.on('end', () => splitter?.end());
    };
    collect('stdout');
    collect('stderr');
    if (pid !== undefined) opts.onSpawn?.(child);

    child.once('error', (err) => {
      if (pid === undefined) done({ ok: false, code: null, signal: null, error: err.message });
    });
    child.once('exit', (code, sig) => {
      // Whatever the command left in its group goes with it: a stage is over when its process is.
      const finish = () => {
        const ok = code === 0 && !timedOut && !aborted;
        done({ ok, code, signal: sig });
      };
      const settle = () => {
        if (pid === undefined || !groupRunning(pid)) {
          // Grandchildren that escaped the group may still hold the pipes: don't wait for them.
          const t = setTimeout(() => {
            child.stdout?.destroy();
            child.stderr?.destroy();
            finish();
          }, 100);
          child.once('close', () => {
            clearTimeout(t);
            finish();
          });
          if (child.stdout?.destroyed !== false && child.stderr?.destroyed !== false) {
            clearTimeout(t);
            finish();
          }
          return;
        }
        kill();
        setTimeout(settle, POLL_MS);
      };
      settle();
    });
  });
}
