import { type ChildProcess, spawn } from 'node:child_process';
import { constants } from 'node:os';
import type { Command } from '../manifest/types.js';
import { fastSpawn, groupMembers, launchAs, procAvailable, type UserIds } from '../procs/index.js';

/** argv for a Command: a string runs under `sh -c` (like runit's `run` and supervisord), a list runs as is. */
export function argvOf(command: Command): [string, string[]] {
  if (command.kind === 'shell') return ['/bin/sh', ['-c', command.script]];
  return [command.argv[0], command.argv.slice(1)];
}

export interface SpawnOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** the service's resolved `user:` (plan.runAs): switched to when tend is root */
  user?: UserIds;
}

/**
 * Starts a command as the leader of a new session and process group (`detached`), so that a stop can signal
 * the whole group and a terminal's Ctrl-C reaches tend only, which then stops services in order.
 */
export function spawnService(command: Command, opts: SpawnOptions): ChildProcess {
  // `user:` goes through setpriv (same pid, supplementary groups kept), which posix_spawn can start too; only
  // without setpriv does child_process switch uid and gid itself (see procs/as-user).
  const { file, args, uid, gid } = launchAs(...argvOf(command), opts.user);
  // posix_spawn where it can (a restart waits ~1 ms less than for a fork of all of tend); see procs/fast-spawn.
  if (uid === undefined && gid === undefined) {
    const fast = fastSpawn(file, args, { cwd: opts.cwd, env: opts.env });
    if (fast) return fast;
  }
  return spawn(file, args, {
    cwd: opts.cwd,
    env: opts.env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    uid,
    gid,
  });
}

/**
 * Why tend cannot run these services as their `user:`, or undefined when it can: switching users needs root,
 * and a `user:` that is not tend's own would otherwise either fail at every spawn or, worse, run the service
 * as tend's user. One text naming each such service, for a start error (exit 2) or a refused reload.
 */
export function userRefusal(
  services: Iterable<{ name: string; runAs?: { spec: string; uid: number; gid: number } }>,
  euid = process.geteuid?.() ?? 0,
  egid = process.getegid?.() ?? 0,
): string | undefined {
  if (euid === 0) return undefined;
  const bad = [...services].filter((s) => s.runAs && (s.runAs.uid !== euid || s.runAs.gid !== egid));
  if (bad.length === 0) return undefined;
  const list = bad
    .map((s) => `${s.name} (user: ${s.runAs?.spec}, uid ${s.runAs?.uid}:${s.runAs?.gid})`)
    .join(', ');
  return (
    `tend runs as uid ${euid}:${egid}, not root, and cannot run ${list} as another user; ` +
    'tend must run as root for user:, or remove user: from the service'
  );
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
