import { EWOULDBLOCK, LOCK_EX, LOCK_NB, loadLibc } from './native.js';

export class FlockUnavailable extends Error {}

/**
 * Takes an exclusive flock on an open file without waiting: true when taken, false when another open file holds
 * one. The kernel drops the lock when the last descriptor of that open file closes, which includes its process
 * dying by SIGKILL: a lock file nobody holds is one whose owner is gone. Node opens every file close-on-exec, so
 * children tend starts never inherit (and never keep) such a lock. Throws FlockUnavailable without koffi or on a
 * file system that does not lock (some network mounts).
 */
export function tryLockExclusive(fd: number): boolean {
  const loaded = loadLibc();
  if ('error' in loaded) throw new FlockUnavailable(loaded.error);
  if (loaded.libc.flock(fd, LOCK_EX | LOCK_NB) === 0) return true;
  const errno = loaded.libc.errno();
  if (errno === EWOULDBLOCK) return false;
  throw new FlockUnavailable(`flock failed (errno ${errno})`);
}
