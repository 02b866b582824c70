import { createRequire } from 'node:module';

/**
 * The few libc calls Node does not expose: prctl (subreaper), waitpid by pid and waitid (collecting exits) and flock
 * (a pid file lock that dies with its owner).
 *
 * Why koffi rather than a node-gyp addon: koffi ships prebuilt binaries for every platform we care about
 * (glibc and musl, x64 and arm64) as npm packages, so installing tend needs no compiler, no Python and no
 * Node headers on the target machine — which a minimal container image or a locked-down VM does not have.
 * The calls are cheap and rare (a few per second at most), so FFI overhead does not matter.
 *
 * Loaded lazily: the CLI's client commands (`tend status`, `tend logs`) never pay for loading a native module.
 */
export interface Libc {
  prctl(option: number, arg2: number, arg3: number, arg4: number, arg5: number): number;
  waitpid(pid: number, status: number[], options: number): number;
  /** infop: a siginfo_t (128 bytes) */
  waitid(idtype: number, id: number, infop: Buffer, options: number): number;
  flock(fd: number, operation: number): number;
  errno(): number;
  /** bytes in a pointer (where siginfo_t's union starts) */
  pointerSize: number;
}

export const PR_SET_CHILD_SUBREAPER = 36;
export const WNOHANG = 1;
// Also waits for children created with clone() and a non-SIGCHLD exit signal; harmless for the rest.
export const __WALL = 0x40000000;
export const LOCK_EX = 2;
export const LOCK_NB = 4;
export const ECHILD = 10;
export const EINTR = 4;
export const EWOULDBLOCK = 11;

let cached: { libc: Libc } | { error: string } | undefined;

/** libc, or why it is unavailable (not Linux, koffi missing or without a binary for this platform). */
export function loadLibc(): { libc: Libc } | { error: string } {
  if (cached) return cached;
  if (process.platform !== 'linux') {
    cached = { error: `native process calls are Linux-only (platform is ${process.platform})` };
    return cached;
  }
  try {
    const require = createRequire(import.meta.url);
    const koffi = require('koffi') as typeof import('koffi');
    // null = the running executable's own symbols, which include libc: works on glibc and musl alike,
    // where a hard-coded 'libc.so.6' would fail on Alpine.
    const lib = koffi.load(null);
    cached = {
      libc: {
        prctl: lib.func('int prctl(int, unsigned long, unsigned long, unsigned long, unsigned long)'),
        waitpid: lib.func('int waitpid(int, _Out_ int *, int)'),
        waitid: lib.func('int waitid(int, int, void *, int)'),
        flock: lib.func('int flock(int, int)'),
        errno: () => koffi.errno(),
        pointerSize: koffi.sizeof('void *'),
      },
    };
  } catch (err) {
    cached = { error: `cannot load koffi for native process calls: ${(err as Error).message}` };
  }
  return cached;
}
