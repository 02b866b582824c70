import type { ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { accessSync, constants as fsConstants } from 'node:fs';
import { createRequire } from 'node:module';
import { type OnReadOpts, Socket, type SocketConstructorOpts } from 'node:net';
import { constants as osConstants } from 'node:os';
import { delimiter, join } from 'node:path';
import { claimExit, claimedCount, collectClaimed, watchExits } from './exits.js';
import { decodeWaitStatus } from './reaper.js';
import { trackPid, untrackPid } from './tracked.js';

/** Node's Socket takes `onread` for an fd too (lib/net.js), which @types/node lists for connect() only */
type SocketOpts = SocketConstructorOpts & { onread?: OnReadOpts };

/**
 * Starting a service with glibc's posix_spawn instead of child_process.spawn.
 *
 * Why: libuv forks. A fork copies the page tables of all of tend (60–120 MiB of Node), 1.3 ms and more per
 * spawn, and grows with tend's memory; posix_spawn uses clone(CLONE_VM | CLONE_VFORK), which copies nothing:
 * 0.14 ms in the same process. That difference is most of what separated tend's restart latency from
 * runit's (bench/RESULTS.md, F3).
 *
 * What the child gets is what child_process.spawn with `detached: true, stdio: ['ignore', 'pipe', 'pipe']`
 * gives it: a new session (setsid), stdin from /dev/null, stdout and stderr to socket pairs, every signal at its
 * default disposition and none blocked (Node ignores SIGPIPE, and an ignored signal survives exec), the cwd,
 * exactly the environment given, the executable found on that environment's PATH.
 *
 * The child is not Node's, so nobody else collects it: its pid is claimed in exits.ts, whose SIGCHLD listener
 * names each exited child (waitid with WNOWAIT) and collects by pid only the claimed ones (never waitpid(-1),
 * which could take one of Node's), and it emits 'exit' like a ChildProcess; a slow backstop timer asks every
 * claimed pid in case a signal was missed. Its pid is in the registry the orphan reaper skips.
 *
 * Returns undefined where it cannot work (not Linux with glibc or musl, koffi missing, an old libc without
 * posix_spawn_file_actions_addchdir_np); the caller then uses child_process.spawn. posix_spawn cannot switch
 * users: a service with `user:` is started here through setpriv (as-user.ts), which switches and execs.
 */

interface SpawnLib {
  posixSpawn(
    pid: number[],
    path: string,
    fa: Buffer,
    attr: Buffer,
    argv: (string | null)[],
    envp: (string | null)[],
  ): number;
  faInit(fa: Buffer): number;
  faDestroy(fa: Buffer): number;
  faAddDup2(fa: Buffer, fd: number, to: number): number;
  faAddOpen(fa: Buffer, fd: number, path: string, flags: number, mode: number): number;
  faAddChdir(fa: Buffer, path: string): number;
  attrInit(attr: Buffer): number;
  attrDestroy(attr: Buffer): number;
  attrSetFlags(attr: Buffer, flags: number): number;
  attrSetSigMask(attr: Buffer, set: Buffer): number;
  attrSetSigDefault(attr: Buffer, set: Buffer): number;
  sigEmptySet(set: Buffer): number;
  socketpair(domain: number, type: number, protocol: number, fds: number[]): number;
  close(fd: number): number;
  errno(): number;
}

// From <spawn.h> and <fcntl.h> (Linux, the same on glibc and musl).
const POSIX_SPAWN_SETSIGDEF = 0x04;
const POSIX_SPAWN_SETSIGMASK = 0x08;
const POSIX_SPAWN_SETSID = 0x80;
const AF_UNIX = 1;
const SOCK_STREAM = 1;
const SOCK_CLOEXEC = 0o2000000;
const O_RDONLY = 0;
// Opaque libc structs: 80, 336 and 128 bytes on x86-64 glibc; room to spare for other ABIs.
const OPAQUE_BYTES = 1024;
// Only for a SIGCHLD that never came, which nothing known causes (signals coalesce, and every SIGCHLD collects
// every exited child). Each pass waits on every service and leaves garbage whose collection woke V8's four worker
// threads: at 5 s it was most of an idle tend's CPU and wake-ups (bench/lib/findings.md, F7).
const BACKSTOP_MS = 30_000;

let lib: SpawnLib | null | undefined;

function load(): SpawnLib | null {
  if (lib !== undefined) return lib;
  lib = null;
  if (process.platform !== 'linux' || process.env.TEND_SPAWN === 'node') return lib;
  try {
    const require = createRequire(import.meta.url);
    const koffi = require('koffi') as typeof import('koffi');
    const c = koffi.load(null);
    lib = {
      posixSpawn: c.func(
        'int posix_spawn(_Out_ int *pid, const char *path, void *fa, void *attr, const char **argv, const char **envp)',
      ),
      faInit: c.func('int posix_spawn_file_actions_init(void *fa)'),
      faDestroy: c.func('int posix_spawn_file_actions_destroy(void *fa)'),
      faAddDup2: c.func('int posix_spawn_file_actions_adddup2(void *fa, int fd, int newfd)'),
      faAddOpen: c.func(
        'int posix_spawn_file_actions_addopen(void *fa, int fd, const char *path, int oflag, unsigned int mode)',
      ),
      faAddChdir: c.func('int posix_spawn_file_actions_addchdir_np(void *fa, const char *path)'),
      attrInit: c.func('int posix_spawnattr_init(void *attr)'),
      attrDestroy: c.func('int posix_spawnattr_destroy(void *attr)'),
      attrSetFlags: c.func('int posix_spawnattr_setflags(void *attr, short flags)'),
      attrSetSigMask: c.func('int posix_spawnattr_setsigmask(void *attr, void *set)'),
      attrSetSigDefault: c.func('int posix_spawnattr_setsigdefault(void *attr, void *set)'),
      sigEmptySet: c.func('int sigemptyset(void *set)'),
      socketpair: c.func('int socketpair(int domain, int type, int protocol, _Out_ int *fds)'),
      close: c.func('int close(int fd)'),
      errno: () => koffi.errno(),
    } as SpawnLib;
  } catch {
    // koffi or a symbol is missing: child_process.spawn it is.
    lib = null;
  }
  return lib;
}

/** Whether fastSpawn can be used here. */
export function fastSpawnAvailable(): boolean {
  return load() !== null;
}

type FastChild = EventEmitter & {
  pid: number;
  stdin: null;
  stdout: Socket;
  stderr: Socket;
  exitCode: number | null;
  signalCode: NodeJS.Signals | null;
  kill(signal?: NodeJS.Signals | number): boolean;
};

let backstop: NodeJS.Timeout | undefined;

const SIGNAL_NAMES = new Map<number, NodeJS.Signals>(
  Object.entries(osConstants.signals).map(([name, n]) => [n, name as NodeJS.Signals]),
);
const ERRNO_NAMES = new Map<number, string>(Object.entries(osConstants.errno).map(([name, n]) => [n, name]));

function exited(child: FastChild, status: number | undefined): void {
  untrackPid(child.pid);
  // undefined: collected behind our back; its status is lost, and it is gone all the same.
  const { code, signal } = status === undefined ? { code: null, signal: null } : decodeWaitStatus(status);
  child.exitCode = code;
  child.signalCode = signal === null ? null : (SIGNAL_NAMES.get(signal) ?? null);
  if (claimedCount() === 0 && backstop) {
    clearInterval(backstop);
    backstop = undefined;
  }
  child.emit('exit', child.exitCode, child.signalCode);
}

function watch(): void {
  if (!backstop) {
    backstop = setInterval(collectClaimed, BACKSTOP_MS);
    backstop.unref();
  }
}

/** execvp's search, on the child's PATH rather than tend's. */
function resolveFile(file: string, env: NodeJS.ProcessEnv): string | undefined {
  if (file.includes('/')) return file;
  for (const dir of (env.PATH ?? '/usr/local/bin:/usr/bin:/bin').split(delimiter)) {
    const candidate = join(dir || '.', file);
    try {
      accessSync(candidate, fsConstants.X_OK);
      return candidate;
    } catch {}
  }
  return undefined;
}

function spawnError(file: string, code: string): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new Error(`spawn ${file} ${code}`);
  err.code = code;
  err.syscall = `spawn ${file}`;
  err.path = file;
  return err;
}

/**
 * Starts file with args in a new session, stdout and stderr piped. Throws an Error like child_process's
 * (`spawn FILE ENOENT`) when the process cannot be started; returns undefined when posix_spawn is not
 * available here.
 */
export function fastSpawn(
  file: string,
  args: readonly string[],
  opts: {
    cwd: string;
    env: NodeJS.ProcessEnv;
    /** fds the child gets as 3, 4, … (held listening sockets: close-on-exec here, each 100 or above) */
    fds?: readonly number[];
    /** how stdout and stderr are read (net.Socket's `onread`): the logs read into one shared buffer */
    onread?: OnReadOpts;
  },
): ChildProcess | undefined {
  const c = load();
  if (!c) return undefined;
  const path = resolveFile(file, opts.env);
  if (path === undefined) throw spawnError(file, 'ENOENT');
  // Before the first spawn: a SIGCHLD that arrives before Node watches for it is lost, and a child that exits
  // at once would then wait for the backstop.
  if (!watchExits()) return undefined;

  const out = [0, 0];
  const err = [0, 0];
  // Socket pairs, as child_process uses: the service sees the same kind of stdout as before, and a socket's
  // buffer (~200 KiB) lets a chatty service write longer between reads than a pipe's 64 KiB.
  const pair = (fds: number[]) => c.socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) === 0;
  if (!pair(out)) throw spawnError(file, ERRNO_NAMES.get(c.errno()) ?? 'EMFILE');
  if (!pair(err)) {
    c.close(out[0]);
    c.close(out[1]);
    throw spawnError(file, ERRNO_NAMES.get(c.errno()) ?? 'EMFILE');
  }
  const fa = Buffer.alloc(OPAQUE_BYTES);
  const attr = Buffer.alloc(OPAQUE_BYTES);
  const all = Buffer.alloc(OPAQUE_BYTES);
  const none = Buffer.alloc(OPAQUE_BYTES);
  c.faInit(fa);
  c.attrInit(attr);
  const pid = [0];
  let rc: number;
  try {
    c.faAddOpen(fa, 0, '/dev/null', O_RDONLY, 0);
    c.faAddDup2(fa, out[1], 1);
    c.faAddDup2(fa, err[1], 2);
    // dup2 clears close-on-exec on the copy only: this child gets the sockets, nothing else spawned does.
    const fds = opts.fds ?? [];
    for (let i = 0; i < fds.length; i++) c.faAddDup2(fa, fds[i], 3 + i);
    c.faAddChdir(fa, opts.cwd);
    c.sigEmptySet(all);
    // Every signal 1–64 back to its default, the two libc keeps for itself (32, 33) included: sigfillset
    // leaves those out, and posix_spawn would then hand them to the service ignored. Bit n-1 is signal n.
    all.fill(0xff, 0, 8);
    c.sigEmptySet(none);
    c.attrSetSigDefault(attr, all);
    c.attrSetSigMask(attr, none);
    c.attrSetFlags(attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
    const envp: (string | null)[] = [];
    for (const [k, v] of Object.entries(opts.env)) if (v !== undefined) envp.push(`${k}=${v}`);
    envp.push(null);
    rc = c.posixSpawn(pid, path, fa, attr, [file, ...args, null], envp);
  } finally {
    c.faDestroy(fa);
    c.attrDestroy(attr);
    // The child holds its own copies of its ends; ours would keep the streams open after it exits.
    c.close(out[1]);
    c.close(err[1]);
  }
  if (rc !== 0) {
    c.close(out[0]);
    c.close(err[0]);
    throw spawnError(file, ERRNO_NAMES.get(rc) ?? `errno ${rc}`);
  }

  const child = Object.assign(new EventEmitter(), {
    pid: pid[0],
    stdin: null,
    stdout: new Socket({ fd: out[0], readable: true, writable: false, onread: opts.onread } as SocketOpts),
    stderr: new Socket({ fd: err[0], readable: true, writable: false, onread: opts.onread } as SocketOpts),
    exitCode: null,
    signalCode: null,
    kill(signal: NodeJS.Signals | number = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return false;
      try {
        process.kill(child.pid, signal);
        return true;
      } catch {
        return false;
      }
    },
  }) as FastChild;
  // Registered in the same tick as the spawn: the SIGCHLD of a child that exits at once is handled later.
  trackPid(child.pid);
  claimExit(child.pid, (status) => exited(child, status));
  watch();
  return child as unknown as ChildProcess;
}
