import {
  closeSync,
  constants,
  fstatSync,
  ftruncateSync,
  openSync,
  readFileSync,
  readSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { basename, join } from 'node:path';
import { makeDirSync } from '../fsx/index.js';
import { EWOULDBLOCK, type Libc, LOCK_EX, LOCK_NB, loadLibc } from './native.js';
import { isAlive, procAvailable, readCmdline } from './proc.js';

export const PID_FILE = 'tend.pid';

export type PidFileResult =
  | { ok: true; path: string; release(): void; warning?: string }
  /** Another live tend owns the state dir; pid is 0 if it could not be read. */
  | { ok: false; path: string; pid: number };

/**
 * Claims `<stateDir>/tend.pid` for this process, or reports the live tend that holds it.
 *
 * With koffi, the claim is an flock on the file: the kernel drops it when its owner dies, even by SIGKILL, so a
 * stale file is simply one nobody holds a lock on — no guessing from pids, immune to pid reuse, no race
 * between two tends starting at once. Without it (not Linux, no binary for koffi), falls back to O_EXCL
 * creation plus a check that the recorded pid is alive and looks like node or tend; that check can be fooled
 * by pid reuse and two simultaneous starts can both take over one stale file, as the warning says.
 *
 * `lock: false` forces the fallback (for tests).
 */
export function acquirePidFile(stateDir: string, opts: { lock?: boolean } = {}): PidFileResult {
  const path = join(stateDir, PID_FILE);
  makeDirSync(stateDir);
  const loaded = opts.lock === false ? { error: 'locking disabled' } : loadLibc();
  if ('libc' in loaded) {
    const result = acquireLocked(path, loaded.libc);
    if (result) return result;
    return withWarning(acquireByPid(path), `cannot lock ${path}; checked the pid in it instead`);
  }
  return withWarning(
    acquireByPid(path),
    `no file locking (${loaded.error}); checked the pid in ${path} instead`,
  );
}

function withWarning(result: PidFileResult, warning: string): PidFileResult {
  return result.ok ? { ...result, warning } : result;
}

/** undefined when locking does not work on this file system (e.g. some network mounts). */
function acquireLocked(path: string, libc: Libc): PidFileResult | undefined {
  const deadline = Date.now() + 2000;
  for (let inodeRaces = 0; inodeRaces < 10; ) {
    const fd = openSync(path, constants.O_RDWR | constants.O_CREAT | constants.O_NOFOLLOW, 0o644);
    if (libc.flock(fd, LOCK_EX | LOCK_NB) !== 0) {
      const errno = libc.errno();
      if (errno !== EWOULDBLOCK) {
        closeSync(fd);
        return undefined;
      }
      const pid = readHolderPid(fd);
      closeSync(fd);
      // A holder that is exiting (a tend SIGKILLed a moment ago) keeps its lock until its last thread is
      // gone: wait for that rather than refuse to start.
      if (pid > 0 && !isAlive(pid) && Date.now() < deadline) {
        sleepSync(10);
        continue;
      }
      return { ok: false, path, pid };
    }
    // The previous owner may have unlinked the file between our open and our lock: our lock would then be on
    // a file nobody else can find, and a third tend could lock a new one. Only a lock on the file the path
    // names now counts.
    if (!sameFile(fd, path)) {
      closeSync(fd);
      inodeRaces++;
      continue;
    }
    ftruncateSync(fd, 0);
    writeSync(fd, `${process.pid}\n`, 0);
    let released = false;
    return {
      ok: true,
      path,
      release() {
        if (released) return;
        released = true;
        try {
          // Unlink before closing (which drops the lock), and only our own file.
          if (sameFile(fd, path)) unlinkSync(path);
        } catch {
          // Already gone: fine.
        }
        closeSync(fd);
      },
    };
  }
  return undefined;
}

function sameFile(fd: number, path: string): boolean {
  try {
    const a = fstatSync(fd);
    const b = statSync(path);
    return a.ino === b.ino && a.dev === b.dev;
  } catch {
    return false;
  }
}

/** The holder locks, then writes its pid: give it a moment if we came in between. */
function readHolderPid(fd: number): number {
  const buf = Buffer.alloc(32);
  for (let i = 0; i < 50; i++) {
    const n = readSync(fd, buf, 0, buf.length, 0);
    const pid = Number.parseInt(buf.toString('latin1', 0, n), 10);
    if (pid > 0) return pid;
    sleepSync(10);
  }
  return 0;
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function acquireByPid(path: string): PidFileResult {
  for (let attempt = 0; attempt < 10; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o644);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      let released = false;
      return {
        ok: true,
        path,
        release() {
          if (released) return;
          released = true;
          try {
            if (readPid(path) === process.pid) unlinkSync(path);
          } catch {
            // Already gone: fine.
          }
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const pid = readPid(path);
    if (pid !== undefined && (pid === process.pid || (isAlive(pid) && looksLikeTend(pid)))) {
      return { ok: false, path, pid };
    }
    try {
      unlinkSync(path);
    } catch {
      // Someone else took it over first; the next attempt sees theirs.
    }
  }
  return { ok: false, path, pid: readPid(path) ?? 0 };
}

function readPid(path: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(path, 'latin1'), 10);
    return pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** A pid reused by, say, a shell must not pass for tend; node itself or anything called tend does. */
function looksLikeTend(pid: number): boolean {
  // Without /proc we cannot tell: a live pid then counts, erring towards not running two tends.
  if (!procAvailable()) return true;
  const argv = readCmdline(pid);
  return argv.slice(0, 3).some((arg) => /^(node|nodejs|tend)([-.\d].*)?$/.test(basename(arg)));
}
