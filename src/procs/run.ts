/**
 * The one runner of a short command (a stage, a finish hook, an exec probe, a notify script, a template check
 * or on_change command): it runs once in its own process group and session, its output is kept bounded, and
 * one kill rule ends it: at the timeout or on abort the stop signal goes to the whole group, SIGKILL follows
 * after a grace. A command is over when its process is: whatever it left running in its group is killed by the
 * same rule before the result is given, so nothing it started outlives it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { type LongTimer, setLongTimeout } from '../time/index.js';
import { launchAs } from './as-user.js';
import { groupMembers, procAvailable } from './proc.js';

/** After the stop signal, how long the group gets before SIGKILL (unless the caller says). */
export const DEFAULT_KILL_GRACE_MS = 2000;
/** Combined output kept (the tail): enough to see why a command failed, small enough for an event. */
export const DEFAULT_OUTPUT_MAX = 4096;
const DEFAULT_STDOUT_MAX = 64 * 1024;
const POLL_MS = 20;
/** After the leader exited and its group is gone, how long escaped grandchildren may hold the pipes open. */
const PIPE_LINGER_MS = 100;

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** the command is killed (by the kill rule) after this long; undefined: no limit */
  timeoutMs?: number;
  /** grace between the stop signal and SIGKILL (default 2 s) */
  killAfterMs?: number;
  /** the first signal of the kill rule (default SIGTERM) */
  stopSignal?: NodeJS.Signals;
  /**
   * Run as this user (tend must be root): uid, gid and supplementary groups, through setpriv where it is
   * installed (see as-user.ts); uid and gid alone otherwise.
   */
  uid?: number;
  gid?: number;
  /** supplementary groups of `uid` (with uid and gid); without them the child keeps none */
  groups?: readonly number[];
  /** characters of combined stdout+stderr kept, the last ones (default 4096) */
  maxOutput?: number;
  /** characters of stdout kept, the first ones (default 64 KiB) */
  maxStdout?: number;
  /** written to the command's stdin, which is then closed; without it stdin is /dev/null */
  input?: string;
  /** aborting kills the group by the kill rule (tend is stopping, the attempt is cancelled) */
  signal?: AbortSignal;
  /** every chunk of output as it comes (to echo lines, feed a log) */
  onOutput?(stream: 'stdout' | 'stderr', chunk: Buffer): void;
  /** the child, once spawned */
  onSpawn?(child: ChildProcess): void;
}

export interface RunResult {
  /** exit code 0, not timed out, not aborted */
  ok: boolean;
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  aborted: boolean;
  /** could not be started at all (missing file, bad cwd): the reason */
  error?: string;
  /** the last `maxOutput` characters of stdout and stderr, interleaved as they came */
  output: string;
  /** the first `maxStdout` characters of stdout */
  stdout: string;
  durationMs: number;
}

/** `[file, ...args]` runs the file directly; a string runs under `/bin/sh -c`. */
export type CommandLine = readonly string[] | string;

/** Sends a signal to a process group; false when the group is gone. */
export function signalGroupOf(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (err) {
    // EPERM: something in the group is not ours to signal; it still exists.
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/**
 * Whether any process of the group still runs. Zombies don't count: killed members were re-parented to PID 1,
 * which may take its time to reap them, and they hold nothing.
 */
function groupRunning(pgid: number): boolean {
  if (!signalGroupOf(pgid, 0)) return false;
  if (!procAvailable()) return true;
  return groupMembers(pgid).length > 0;
}

export function runCommand(command: CommandLine, opts: RunOptions = {}): Promise<RunResult> {
  const started = performance.now(); // monotonic: a wall clock step is no duration
  const [file0, args0] =
    typeof command === 'string' ? ['/bin/sh', ['-c', command]] : [command[0], command.slice(1)];
  const user =
    opts.uid !== undefined
      ? { uid: opts.uid, gid: opts.gid ?? opts.uid, groups: opts.groups ?? [] }
      : undefined;
  // an empty argv stays empty (refused below)
  const { file, args, uid, gid } = file0 ? launchAs(file0, args0, user) : { file: file0, args: args0 };
  const maxOutput = opts.maxOutput ?? DEFAULT_OUTPUT_MAX;
  const maxStdout = opts.maxStdout ?? DEFAULT_STDOUT_MAX;
  const grace = opts.killAfterMs ?? DEFAULT_KILL_GRACE_MS;
  const stopSignal = opts.stopSignal ?? 'SIGTERM';
  let output = '';
  let stdout = '';
  let timedOut = false;
  let aborted = false;

  return new Promise<RunResult>((resolve) => {
    let settled = false;
    let timer: LongTimer | undefined;
    let killTimer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const done = (r: { code: number | null; signal: NodeJS.Signals | null; error?: string }) => {
      if (settled) return;
      settled = true;
      timer?.clear();
      clearTimeout(killTimer);
      if (onAbort) opts.signal?.removeEventListener('abort', onAbort);
      resolve({
        ...r,
        ok: r.code === 0 && !timedOut && !aborted && r.error === undefined,
        timedOut,
        aborted,
        output: output.slice(-maxOutput),
        stdout,
        durationMs: Math.round(performance.now() - started),
      });
    };
    if (opts.signal?.aborted) {
      aborted = true;
      return done({ code: null, signal: null });
    }
    if (!file) return done({ code: null, signal: null, error: 'empty command' });

    let child: ChildProcess;
    try {
      // Own session and group (like a service): the kill reaches whatever the command started, and a Ctrl-C in
      // a terminal reaches tend only.
      child = spawn(file, args, {
        cwd: opts.cwd,
        env: opts.env,
        uid,
        gid,
        detached: true,
        stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      });
    } catch (err) {
      // a bad uid or an argument Node refuses throws instead of emitting 'error'
      return done({ code: null, signal: null, error: (err as Error).message });
    }
    const pid = child.pid;

    // The kill rule, the only one: stop signal to the group, SIGKILL after the grace.
    let killing = false;
    const kill = () => {
      if (pid === undefined || killing) return;
      killing = true;
      signalGroupOf(pid, stopSignal);
      killTimer = setTimeout(() => signalGroupOf(pid, 'SIGKILL'), grace);
      killTimer.unref();
    };
    if (opts.timeoutMs !== undefined) {
      // a user's duration: may be longer than setTimeout's 24.8 days
      timer = setLongTimeout(() => {
        timedOut = true;
        kill();
      }, opts.timeoutMs);
    }
    onAbort = () => {
      aborted = true;
      kill();
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });

    const collect = (name: 'stdout' | 'stderr') => {
      child[name]?.on('data', (chunk: Buffer) => {
        const text = chunk.toString('utf8');
        output = (output + text).slice(-maxOutput * 2);
        if (name === 'stdout' && stdout.length < maxStdout)
          stdout += text.slice(0, maxStdout - stdout.length);
        opts.onOutput?.(name, chunk);
      });
    };
    collect('stdout');
    collect('stderr');
    if (opts.input !== undefined && child.stdin) {
      // A command that never reads stdin closes it early: EPIPE here is normal.
      child.stdin.on('error', () => {});
      child.stdin.end(opts.input);
    }
    if (pid !== undefined) opts.onSpawn?.(child);

    child.once('error', (err) => {
      if (pid === undefined) done({ code: null, signal: null, error: err.message });
    });
    child.once('exit', (code, sig) => {
      const finish = () => done({ code, signal: sig });
      const settle = () => {
        if (settled) return;
        if (pid !== undefined && groupRunning(pid)) {
          kill();
          setTimeout(settle, POLL_MS);
          return;
        }
        // Grandchildren that escaped the group may still hold the pipes: don't wait for them.
        if (child.stdout?.destroyed !== false && child.stderr?.destroyed !== false) return finish();
        const t = setTimeout(() => {
          child.stdout?.destroy();
          child.stderr?.destroy();
          finish();
        }, PIPE_LINGER_MS);
        child.once('close', () => {
          clearTimeout(t);
          finish();
        });
      };
      settle();
    });
  });
}

/** One line on how a command ended: `exit code 2`, `killed by SIGKILL`, `could not start: …`. */
export function describeRun(r: RunResult): string {
  if (r.error !== undefined) return `could not start: ${r.error}`;
  if (r.signal) return `killed by ${r.signal}`;
  return `exit code ${r.code}`;
}
