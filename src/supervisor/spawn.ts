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
}

/**
 * Starts a command as the leader of a new session and process group (`detached`), so that a stop can signal
 * the whole group and a terminal's Ctrl-C reaches tend only, which then stops services in order.
 */
export function spawnService(command: Command, opts: SpawnOptions): ChildProcess {
  const [file, args] = argvOf(command);
  // posix_spawn where it can (a restart waits ~1 ms less than for a fork of all of tend); see procs/fast-spawn.
  if (opts.uid === undefined && opts.gid === undefined) {
    const fast = fastSpawn(file, args, { cwd: opts.cwd, env: opts.env });
    if (fast) return fast;
  }
  return spawn(file, args, {
    cwd: opts.cwd,
    env: opts.env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
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
