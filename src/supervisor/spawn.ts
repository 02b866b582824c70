import { type ChildProcess, spawn } from 'node:child_process';
import { constants } from 'node:os';
import { OUTPUT_ONREAD } from '../logs/index.js';
import type { Command } from '../manifest/types.js';
import { fastSpawn, groupMembers, launchAs, procAvailable, type UserIds } from '../procs/index.js';

/** argv for a Command: a string runs under `sh -c` (like runit's `run` and supervisord), a list runs as is. */
export function argvOf(command: Command): [string, string[]] {
  if (command.kind === 'shell') return ['/bin/sh', ['-c', command.script]];
  return [command.argv[0], command.argv.slice(1)];
}

/** Words a shell treats itself: `exec` before them would fail or change what the script means. */
const SHELL_WORDS = new Set(
  (
    'if then else elif fi do done case esac while until for in { } ! [[ ]] function select time coproc ' +
    'cd . source eval exec exit return export set unset shift trap wait read readonly local alias unalias ' +
    'ulimit umask break continue times command builtin hash type getopts jobs fg bg let declare typeset : true false'
  ).split(' '),
);
const ASSIGNMENT = /^[A-Za-z_][A-Za-z0-9_]*=/;

/**
 * A service's shell script with `exec` put before its command when the script is one simple command
 * (`gunicorn app:app -b :8000 2>&1`, `PORT=80 ./server`), so that the command replaces `sh` and is the
 * service's main process: its reload signal then reaches it, not a shell that dies of SIGHUP. Anything the
 * scan is not sure of (lists, pipes, `&&`, subshells, builtins, keywords, quotes inside `$(…)`) is left as
 * written: `undefined`.
 */
export function execScript(script: string): string | undefined {
  let i = 0;
  const n = script.length;
  let wordStart = -1;
  /** start of the first word that is not an assignment, and whether that word is done */
  let commandAt = -1;
  let commandEnd = -1;
  const endWord = (at: number) => {
    if (wordStart < 0) return;
    const word = script.slice(wordStart, at);
    if (commandAt < 0 && !ASSIGNMENT.test(word)) {
      commandAt = wordStart;
      commandEnd = at;
    }
    wordStart = -1;
  };
  while (i < n) {
    const c = script[i];
    if (c === ' ' || c === '\t') {
      endWord(i);
      i++;
      continue;
    }
    if (c === '\n') {
      endWord(i);
      if (script.slice(i).trim() !== '') return undefined;
      break;
    }
    if (c === '#' && wordStart < 0) {
      if (script.indexOf('\n', i) >= 0 && script.slice(script.indexOf('\n', i)).trim() !== '')
        return undefined;
      break;
    }
    if (c === ';' || c === '(' || c === ')') return undefined;
    const prev = i > 0 ? script[i - 1] : '';
    // `>&2`, `<&0` and `>|` are redirections; any other `&` or `|` makes a list, a pipe or a background job
    if (c === '&' && ((prev !== '>' && prev !== '<') || script[i + 1] === '>')) return undefined;
    if (c === '|' && prev !== '>') return undefined;
    if ((c === '<' || c === '>') && commandAt < 0 && wordStart < 0) return undefined;
    if (wordStart < 0) wordStart = i;
    if (c === '\\') {
      i += 2;
      continue;
    }
    if (c === "'") {
      const end = script.indexOf("'", i + 1);
      if (end < 0) return undefined;
      i = end + 1;
      continue;
    }
    if (c === '"') {
      let j = i + 1;
      while (j < n && script[j] !== '"') {
        if (script[j] === '\\') j++;
        else if (script[j] === '`' || (script[j] === '$' && script[j + 1] === '(')) return undefined;
        j++;
      }
      if (j >= n) return undefined;
      i = j + 1;
      continue;
    }
    if (c === '`') {
      const end = script.indexOf('`', i + 1);
      if (end < 0 || /["'\\]/.test(script.slice(i + 1, end))) return undefined;
      i = end + 1;
      continue;
    }
    if (c === '$' && script[i + 1] === '(') {
      let depth = 0;
      let j = i + 1;
      for (; j < n; j++) {
        const d = script[j];
        if (d === '"' || d === "'" || d === '`' || d === '\\') return undefined;
        if (d === '(') depth++;
        else if (d === ')' && --depth === 0) break;
      }
      if (j >= n) return undefined;
      i = j + 1;
      continue;
    }
    i++;
  }
  endWord(i);
  if (commandAt < 0) return undefined;
  if (SHELL_WORDS.has(script.slice(commandAt, commandEnd))) return undefined;
  return `${script.slice(0, commandAt)}exec ${script.slice(commandAt)}`;
}

/** argv of a service: as argvOf, but a script that is one simple command is exec'd (see execScript). */
export function serviceArgv(command: Command): [string, string[]] {
  if (command.kind === 'shell') {
    const script = execScript(command.script);
    if (script !== undefined) return ['/bin/sh', ['-c', script]];
  }
  return argvOf(command);
}

export interface SpawnOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** the service's resolved `user:` (plan.runAs): switched to when tend is root */
  user?: UserIds;
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
 * Starts a command (a one-command script exec'd, so that the command is the main process) as the leader of a new session and process group (`detached`), so that a stop can signal
 * the whole group and a terminal's Ctrl-C reaches tend only, which then stops services in order.
 */
export function spawnService(command: Command, opts: SpawnOptions): ChildProcess {
  const [command0, args0] = serviceArgv(command);
  const listened =
    opts.listen && opts.listen.fds.length > 0
      ? withListen(command0, args0, opts.env, opts.listen)
      : { file: command0, args: args0, env: opts.env };
  const env = listened.env;
  // `user:` goes through setpriv (same pid, supplementary groups kept), which posix_spawn can start too; only
  // without setpriv does child_process switch uid and gid itself (see procs/as-user). setpriv comes first, so
  // the LISTEN_PID shell above runs as the user and its `$$` is still the service's pid.
  const { file, args, uid, gid } = launchAs(listened.file, listened.args, opts.user);
  const fds = opts.listen?.fds ?? [];
  // posix_spawn where it can (a restart waits ~1 ms less than for a fork of all of tend); see procs/fast-spawn.
  if (uid === undefined && gid === undefined) {
    // output read into the logs' shared buffer (logs/reader.ts), not a fresh buffer per read
    const fast = fastSpawn(file, args, { cwd: opts.cwd, env, fds, onread: OUTPUT_ONREAD });
    if (fast) return fast;
  }
  return spawn(file, args, {
    cwd: opts.cwd,
    env,
    detached: true,
    // libuv dup2()s each into place (3, 4, …) in the child, clearing close-on-exec on the copies only
    stdio: ['ignore', 'pipe', 'pipe', ...fds],
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
