/**
 * The rollout semaphore on a `file://` store: for several tends on ONE host sharing a store folder or document.
 * No server can expire anything here, so the binding is the process itself: a lock file held with flock, which the
 * kernel drops when its process dies, SIGKILL included.
 *
 * Where: beside the store, `<parent>/.<name>.tend-semaphores/<prefix>` for a store `<parent>/<name>` (a folder or a
 * YAML/JSON document): the same folder whether or not the store exists yet, outside what the store shows as keys.
 *
 * The queue (fair, first come first served): a contender creates a temporary file, locks it, and links it to
 * `q-<ticket>` with the next free ticket (link fails if the name exists, so two contenders cannot share one, and
 * a queue file is locked from the moment it is visible). The holders are the `max` live queue files with the
 * lowest tickets. A queue file whose lock can be taken belongs to a dead contender: whoever finds it removes it.
 * A waiter looks again when the folder changes (inotify) and every `POLL_MS` (a death changes no file).
 *
 * Security: whoever can write this folder can plant, remove or swap lock files, so the folders are created 0700
 * and an existing one is refused unless it is a real folder (not a symlink) of tend's user that nobody else can
 * write, in a store folder nobody else can write without the sticky bit; files are opened O_NOFOLLOW. So the
 * tends that share a file store's semaphore run as one user (or root).
 */
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  constants,
  type FSWatcher,
  fstatSync,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  type Stats,
  statSync,
  unlinkSync,
  watch,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { KvBackend } from '../kv/index.js';
import { FlockUnavailable, tryLockExclusive } from '../procs/index.js';
import { type AcquireOptions, checkOptions, SemaphoreError, type Slot } from './semaphore-types.js';

/** how often a waiter looks for a dead holder (a death changes no file, so inotify cannot tell) */
export const POLL_MS = 500;
const QUEUE = /^q-(\d{12})$/;
const TEMP = /^t-/;
const FILE_FLAGS = constants.O_RDWR | constants.O_NOFOLLOW;

const octal = (mode: number) => `0${(mode & 0o7777).toString(8)}`;

/**
 * The semaphore folder of a file store at `location` (its folder or its document): always beside it, so that it is
 * the same folder whether or not the store exists yet, and never inside the operator's store (nor watched by it).
 */
export function semaphoreRoot(location: string): string {
  return join(dirname(location), `.${basename(location)}.tend-semaphores`);
}

/**
 * Creates `dir` (0700) if missing and checks it: a real folder of tend's user, writable by nobody else. `made`
 * tells whether this call created it (then a umask-widened mode is narrowed instead of refused).
 */
function checkFolder(dir: string, uid: number): void {
  let made = false;
  try {
    mkdirSync(dir, { mode: 0o700 });
    made = true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  const st = lstatSync(dir);
  const refuse = (why: string) =>
    new SemaphoreError(
      `the rollout semaphore's folder ${dir} ${why}; whoever can write it can take or free slots: remove it ` +
        '(tend creates it again, mode 0700) and run every tend that shares this file store as one user',
    );
  if (st.isSymbolicLink()) throw refuse('is a symlink');
  if (!st.isDirectory()) throw refuse('is not a folder');
  if (st.uid !== uid) throw refuse(`belongs to uid ${st.uid}, not to tend's user (uid ${uid})`);
  if ((st.mode & 0o022) !== 0) {
    if (made) chmodSync(dir, 0o700);
    else
      throw refuse(
        `is writable by ${(st.mode & 0o002) !== 0 ? 'every user' : 'its group'} (mode ${octal(st.mode)})`,
      );
  }
}

/** The store's own folder may belong to anyone trusted, but nobody else may be able to swap our folder in it. */
function checkParent(dir: string, uid: number): void {
  let p: Stats;
  try {
    p = statSync(dir);
  } catch {
    throw new SemaphoreError(
      `the folder ${dir} of the store does not exist: create it (tend does not create it)`,
    );
  }
  const why =
    p.uid !== 0 && p.uid !== uid && (p.mode & 0o200) !== 0
      ? `belongs to uid ${p.uid}`
      : (p.mode & 0o022) !== 0 && (p.mode & 0o1000) === 0
        ? `is writable by other users without the sticky bit (mode ${octal(p.mode)})`
        : undefined;
  if (why) {
    throw new SemaphoreError(
      `the folder ${dir}, which holds the store and its rollout semaphore, ${why}: another user could swap the ` +
        "semaphore's folder in it; make it writable only by tend's user (or root)",
    );
  }
}

/** The queue folder of `prefix`, every level created and checked. */
function queueFolder(location: string, prefix: string): string {
  const uid = process.geteuid?.() ?? 0;
  const root = semaphoreRoot(location);
  checkParent(dirname(root), uid);
  checkFolder(root, uid);
  let dir = root;
  for (const segment of prefix.split('/').filter((s) => s !== '')) {
    // a key segment is not a path: escaped, and a leading dot too (so `.` and `..` can never be followed)
    dir = join(dir, encodeURIComponent(segment).replace(/^\./, '%2E'));
    checkFolder(dir, uid);
  }
  return dir;
}

function sameFile(fd: number, path: string): boolean {
  try {
    const a: Stats = fstatSync(fd);
    const b = statSync(path);
    return a.ino === b.ino && a.dev === b.dev;
  } catch {
    return false;
  }
}

/** true when the file's lock is held (its owner lives); a file nobody holds is removed */
function aliveOrRemove(path: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch {
    return false; // gone meanwhile (released), or not a plain file: not a contender either way
  }
  try {
    if (!tryLockExclusive(fd)) return true;
    // its owner is gone; remove it while we hold its lock, and only if the name still means this file
    if (sameFile(fd, path)) unlinkSync(path);
    return false;
  } catch (e) {
    if (e instanceof FlockUnavailable) throw e;
    return false;
  } finally {
    closeSync(fd);
  }
}

/** how old an unlocked temporary file must be to count as a dead contender's leftover */
const TEMP_GRACE_MS = 10_000;

function isOld(path: string): boolean {
  try {
    return Date.now() - lstatSync(path).mtimeMs > TEMP_GRACE_MS;
  } catch {
    return false;
  }
}

/** The live queue, by ticket; dead entries (and dead temporary files) are removed on the way. */
function liveQueue(dir: string, self: string | undefined): Array<{ name: string; ticket: number }> {
  const out: Array<{ name: string; ticket: number }> = [];
  const mine = self === undefined ? Number.POSITIVE_INFINITY : Number(QUEUE.exec(self)?.[1]);
  for (const name of readdirSync(dir)) {
    const m = QUEUE.exec(name);
    if (name === self) {
      out.push({ name, ticket: mine });
      continue;
    }
    // those queued after us do not change our place: not worth an open and a lock each
    if (m && Number(m[1]) > mine) continue;
    if (!m) {
      // a temporary file is locked by its contender a moment after it is created: one checked (and so locked)
      // in that moment would look dead to us and make its contender fail; only old ones are leftovers
      if (TEMP.test(name) && isOld(join(dir, name))) aliveOrRemove(join(dir, name));
      continue;
    }
    if (!aliveOrRemove(join(dir, name))) continue;
    out.push({ name, ticket: Number(m[1]) });
  }
  return out.sort((a, b) => a.ticket - b.ticket);
}

export async function acquireFileSlot(kv: KvBackend, opts: AcquireOptions): Promise<Slot> {
  checkOptions(opts);
  if (kv.location === undefined) throw new SemaphoreError(`${kv.url}: this file store has no location`);
  const dir = queueFolder(kv.location, opts.prefix);

  // a temporary file, locked before it gets its queue name: no one can ever see it unlocked while we live
  const temp = join(dir, `t-${process.pid}-${randomBytes(4).toString('hex')}`);
  const fd = openSync(temp, FILE_FLAGS | constants.O_CREAT | constants.O_EXCL, 0o600);
  let path: string | undefined;
  let released = false;
  const release = async () => {
    if (released) return;
    released = true;
    try {
      if (path !== undefined && sameFile(fd, path)) unlinkSync(path);
    } catch {
      // already gone: fine
    }
    closeSync(fd);
  };

  let watcher: FSWatcher | undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    if (!tryLockExclusive(fd)) throw new SemaphoreError(`cannot lock the new file ${temp}`);
    writeSync(
      fd,
      `${JSON.stringify({ holder: opts.holder, pid: process.pid, at: new Date().toISOString() })}\n`,
    );
    let ticket = 0;
    for (let tries = 0; path === undefined; tries++) {
      if (tries > 1000) throw new SemaphoreError(`no free ticket in ${dir}`);
      const queue = liveQueue(dir, undefined);
      ticket = Math.max(ticket, (queue.at(-1)?.ticket ?? 0) + 1);
      const name = `q-${String(ticket).padStart(12, '0')}`;
      try {
        linkSync(temp, join(dir, name));
        path = join(dir, name);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        ticket++;
      }
    }
    unlinkSync(temp);
    const self = basename(path);

    let wake: (() => void) | undefined;
    let pending = false;
    const poke = () => {
      pending = true;
      wake?.();
    };
    watcher = watch(dir, poke);
    watcher.on('error', () => {}); // the poll still runs
    for (;;) {
      if (opts.signal?.aborted) throw new SemaphoreError('gave up waiting for a slot');
      if (!sameFile(fd, path)) throw new SemaphoreError(`the lock file ${path} was removed by someone else`);
      pending = false;
      const queue = liveQueue(dir, self);
      const at = queue.findIndex((q) => q.name === self);
      if (at >= 0 && at < opts.max) return { key: path, revision: ticket, release };
      if (!pending) {
        await new Promise<void>((resolve) => {
          wake = resolve;
          timer = setTimeout(resolve, POLL_MS);
          opts.signal?.addEventListener('abort', () => resolve(), { once: true });
        });
        clearTimeout(timer);
        wake = undefined;
      }
    }
  } catch (err) {
    try {
      unlinkSync(temp);
    } catch {
      // linked and unlinked already
    }
    await release();
    if (err instanceof FlockUnavailable)
      throw new SemaphoreError(`the rollout semaphore needs file locks in ${dir}: ${err.message}`);
    throw err;
  } finally {
    clearTimeout(timer);
    watcher?.close();
  }
}
