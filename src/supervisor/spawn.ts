import { type ChildProcess, spawn } from 'node:child_process';
import { constants } from 'node:os';
import type { Command } from '../manifest/types.js';
import { fastSpawn, groupMembers, procAvailable } from '../procs/index.js';

/** argv for a Command: a string runs under `sh -c` (like runit's `run` and supervisord), a list runs as is. */
export function argvOf(command: Command): [string, string[]] {
  if (command.kind === 'shell') return ['/bin/sh', ['-c', command.script]];
  return [command.argv[0], command.argv.slice(1)];
}

export interface SpawnOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  uid?: number;
  gid?: number;
  /** held listening sockets, passed as fds 3, 4, … with LISTEN_FDS/LISTEN_FDNAMES/LISTEN_PID */
  listen?: { fds: readonly number[]; names: readonly string[] };
}

/**
 * sd_listen_fds(3) wants LISTEN_PID to be the service's own pid, which nobody knows before the spawn (posix_spawn
 * and fork+exec alike take the environment as it is). A shell knows its pid as `$$` and keeps it across `exec`:
 * it sets the variable and becomes the command. It costs one exec of /bin/sh per start (bench/sockets).
 */
const SET_LISTEN_PID = 'LISTEN_PID=$$ exec "$@"';

/** the argv and environment of a start that inherits sockets */
export function withListen(
  file: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  listen: { fds: readonly number[]; names: readonly string[] },
): { file: string; args: string[]; env: NodeJS.ProcessEnv } {
  const { LISTEN_PID: _pid, ...rest } = env;
  return {
    file: '/bin/sh',
    args: ['-c', SET_LISTEN_PID, 'sh', file, ...args],
    env: { ...rest, LISTEN_FDS: String(listen.fds.length), LISTEN_FDNAMES: listen.names.join(':') },
  };
}

/**
 * Starts a command as the leader of a new session and process group (`detached`), so that a stop can signal
 * the whole group and a terminal's Ctrl-C reaches tend only, which then stops services in order.
 */
export function spawnService(command: Command, opts: SpawnOptions): ChildProcess {
  const [command0, args0] = argvOf(command);
  const { file, args, env } =
    opts.listen && opts.listen.fds.length > 0
      ? withListen(command0, args0, opts.env, opts.listen)
      : { file: command0, args: args0, env: opts.env };
  const fds = opts.listen?.fds ?? [];
  // posix_spawn where it can (a restart waits ~1 ms less than for a fork of all of tend); see procs/fast-spawn.
  if (opts.uid === undefined && opts.gid === undefined) {
    const fast = fastSpawn(file, args, { cwd: opts.cwd, env, fds });
    if (fast) return fast;
  }
  return spawn(file, args, {
    cwd: opts.cwd,
    env,
    detached: true,
    // libuv dup2()s each into place (3, 4, …) in the child, clearing close-on-exec on the copies only
    stdio: ['ignore', 'pipe', 'pipe', ...fds],
    uid: opts.uid,
    gid: opts.gid,
  });
}

/** Signals a whole process group; false when the group is already gone. */
export function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    // EPERM: something in the group is not ours to signal; it still exists.
    return true;
  }
}

/**
 * True while a process of the group still runs. `kill(-pgid, 0)` answers in one syscall for the common case
 * (nothing left); it also counts zombies waiting for a reaper, which run nothing, so a yes is checked in /proc.
 */
export function groupAlive(pgid: number): boolean {
  if (!signalGroup(pgid, 0)) return false;
  if (!procAvailable()) return true;
  return groupMembers(pgid).length > 0;
}

export function signalNumber(signal: string | null): number {
  if (!signal) return 0;
  return (constants.signals as Record<string, number>)[signal] ?? 0;
}

/** The exit status a shell would report: the code, or 128 + the signal's number. */
export function exitStatus(code: number | null, signal: string | null): number {
  if (signal) return 128 + signalNumber(signal);
  return code ?? 0;
}
