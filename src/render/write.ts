/**
 * Replacing a rendered file so that a reader never sees half of it: the new bytes go to a temporary file in
 * the same folder (same file system, so rename is atomic), are flushed to disk, and the temporary file is
 * renamed over the destination. A destination that is itself a bind mount (Docker's `-v file:file`) cannot be
 * renamed over (EBUSY, or EXDEV across file systems): it is then rewritten in place, the best that can be done.
 *
 * The temporary file is also what `check` validates, so what goes live is exactly what was checked.
 *
 * Rendered files hold secrets and tend usually runs as root, so (issue 13):
 * - the temporary file is created with its final mode and owner before a byte is in it (a watcher of the
 *   folder never reads a secret from a 0644 file, not even while `check` runs);
 * - the mode is the template's `perms`, else 0640, and the owner tend's user (or the template's `user` and
 *   `group`), whatever the destination had: a file another user planted there lends neither its mode nor its
 *   owner (consul-template copies both), and the rename gives the destination a new inode, so a descriptor
 *   they kept open on the old one never sees the new bytes;
 * - nothing is written through a symlink: the rename replaces a symlink planted at the destination, and the
 *   in-place fallback opens with O_NOFOLLOW;
 * - a folder (or a folder above it) that every user can write without the sticky bit is refused: anyone could
 *   rename the file away or swap in their own after tend wrote it.
 */
import { constants } from 'node:fs';
import { lstat, open, readdir, readFile, realpath, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { makeDir, tempPathFor } from '../fsx/index.js';

/** The mode of a rendered file when its template gives no `perms` (was 0644 less the umask before issue 13). */
export const DEFAULT_RENDER_MODE = 0o640;

export interface Staged {
  /** the temporary file holding the new content, next to the destination */
  readonly path: string;
  readonly destination: string;
  /** makes it live; `in-place` when the destination could not be renamed over */
  commit(): Promise<'rename' | 'in-place'>;
  /** removes the temporary file; the destination is untouched */
  discard(): Promise<void>;
}

/** The mode and owner a rendered file gets. */
export interface FileRights {
  /** file mode, exactly (the umask does not apply); default 0640 */
  perms?: number;
  /** owner and group to give the file (the template's `user`/`group`); default: tend's */
  uid?: number;
  gid?: number;
}

export interface StageOptions extends FileRights {
  /** for tests: runs between the write and the rename (a crash there must leave the destination whole) */
  beforeRename?: () => void | Promise<void>;
}

/** A write tend refuses (an unsafe folder, an owner it cannot give): the message says what to do. */
export class WriteRefused extends Error {
  override name = 'WriteRefused';
}

/** what fsx's temp names (`.NAME.tend-PID-RAND.tmp`) put after the destination's name */
const TEMP_MARK = '.tend-';
const S_ISVTX = 0o1000;
const octal = (mode: number) => `0${(mode & 0o7777).toString(8)}`;

/**
 * The destination's bytes, or undefined when it does not exist, is not a regular file (a symlink is not
 * followed, a FIFO not waited on) or cannot be read.
 */
export async function readCurrent(destination: string): Promise<string | undefined> {
  const fh = await open(destination, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK).catch(
    () => undefined,
  );
  if (!fh) return undefined;
  try {
    if (!(await fh.stat()).isFile()) return undefined;
    return await fh.readFile('utf8');
  } catch {
    return undefined;
  } finally {
    await fh.close().catch(() => {});
  }
}

/**
 * Whether the destination is already what a render would make it: a regular file (not a symlink) with these
 * bytes, the mode and the owner. A file with the right bytes but another owner or mode (planted by another
 * user, or chmod-ed by hand) is not: it is replaced, as consul-template re-renders a file whose owner differs.
 */
export async function isCurrent(
  destination: string,
  content: string,
  rights: FileRights = {},
): Promise<boolean> {
  const st = await lstat(destination).catch(() => undefined);
  if (!st?.isFile()) return false;
  if ((st.mode & 0o7777) !== (rights.perms ?? DEFAULT_RENDER_MODE)) return false;
  if (st.uid !== (rights.uid ?? process.geteuid?.() ?? st.uid)) return false;
  if (rights.gid !== undefined && st.gid !== rights.gid) return false;
  return (await readCurrent(destination)) === content;
}

/**
 * Refuses a folder that lets any local user replace the rendered file: one that every user can write without
 * the sticky bit, itself or any folder above it (as private-dir does for tend's state folder, and for the same
 * reason: they could rename the file, or the folder, away and put their own in its place). Symlinks on the way
 * are followed and their target checked the same way, except one in a sticky world-writable folder (/tmp) that
 * neither tend's user nor that folder's owner made: Linux's protected_symlinks rule, since whoever made it
 * decides where root writes. Group-writable folders and folders of another user are allowed: the group and
 * the owner are an operator's grant (a bind-mounted project folder belongs to the host's user).
 */
export async function checkFolder(dir: string, seen = new Set<string>()): Promise<void> {
  const me = process.geteuid?.() ?? 0;
  for (let p = resolve(dir); ; p = dirname(p)) {
    if (seen.has(p)) return;
    seen.add(p);
    const st = await lstat(p).catch(() => undefined);
    if (st?.isSymbolicLink()) {
      const parent = await lstat(dirname(p));
      const shared = parent.mode & 0o002 && parent.mode & S_ISVTX;
      if (shared && st.uid !== me && st.uid !== parent.uid) {
        throw new WriteRefused(
          `${p} is a symlink uid ${st.uid} made in ${dirname(p)}, a folder every user can write, so that user ` +
            'decides where tend writes; remove it, or render into a folder of your own',
        );
      }
      await checkFolder(await realpath(p), seen);
    } else if (st?.isDirectory() && st.mode & 0o002 && !(st.mode & S_ISVTX)) {
      throw new WriteRefused(
        `${p} is writable by every user (mode ${octal(st.mode)}) without the sticky bit, so any local user ` +
          `could replace the rendered file after tend wrote it; run chmod o-w ${p} (or chmod +t ${p} as /tmp ` +
          'has), or render into another folder',
      );
    }
    if (p === dirname(p)) return;
  }
}

/** Gives an open file its mode and owner, before anything is written to it. */
async function applyRights(fh: import('node:fs/promises').FileHandle, path: string, rights: FileRights) {
  const mode = rights.perms ?? DEFAULT_RENDER_MODE;
  await fh.chmod(mode);
  if (rights.uid === undefined && rights.gid === undefined) return;
  try {
    await fh.chown(rights.uid ?? -1, rights.gid ?? -1);
  } catch (e) {
    const who = [
      rights.uid !== undefined ? `uid ${rights.uid}` : '',
      rights.gid !== undefined ? `gid ${rights.gid}` : '',
    ]
      .filter(Boolean)
      .join(' and ');
    throw new WriteRefused(
      `cannot give ${path} to ${who}: ${(e as Error).message} (only root may give a file away; run tend as ` +
        'root or drop user/group from the template)',
    );
  }
  // chown clears the set-user/group-ID bits: put the mode back as asked
  if (mode & 0o6000) await fh.chmod(mode);
}

/**
 * Writes `content` next to `destination`, ready to be checked and committed. Creates the folder if needed.
 * Throws (with the path in the message) when the folder is not writable, or WriteRefused when it is unsafe.
 */
export async function stage(destination: string, content: string, opts: StageOptions = {}): Promise<Staged> {
  await makeDir(dirname(destination));
  await checkFolder(dirname(destination));
  const path = tempPathFor(destination);
  // O_EXCL: never an existing file, never through a symlink. Created with the final mode (the umask can only
  // narrow it), then set exactly, owned, and only then written.
  const fh = await open(path, 'wx', opts.perms ?? DEFAULT_RENDER_MODE);
  try {
    await applyRights(fh, path, opts);
    await fh.writeFile(content);
    await fh.sync();
  } catch (err) {
    await fh.close().catch(() => {});
    await unlink(path).catch(() => {});
    throw err;
  }
  await fh.close();
  let done = false;
  return {
    path,
    destination,
    async commit() {
      if (done) throw new Error(`${path} was already committed or discarded`);
      done = true;
      await opts.beforeRename?.();
      try {
        await rename(path, destination);
        return 'rename';
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'EBUSY' && code !== 'EXDEV') {
          await unlink(path).catch(() => {});
          throw err;
        }
        try {
          await rewriteInPlace(destination, await readFile(path), opts);
        } finally {
          await unlink(path).catch(() => {});
        }
        return 'in-place';
      }
    },
    async discard() {
      if (done) return;
      done = true;
      await unlink(path).catch(() => {});
    },
  };
}

/**
 * A bind-mounted destination: the same file gets the new bytes. Opened without following a symlink, given its
 * mode and owner first, then truncated and written.
 */
async function rewriteInPlace(destination: string, data: Buffer, rights: FileRights): Promise<void> {
  const fh = await open(destination, constants.O_WRONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new WriteRefused(`${destination} is not a regular file`);
    try {
      await applyRights(fh, destination, rights);
    } catch (e) {
      // A bind-mounted file of the host's user: tend (not root) may not chmod it. Written anyway only when its
      // mode already lets nobody read more than `perms` would, and no owner was asked for.
      const want = rights.perms ?? DEFAULT_RENDER_MODE;
      const owned = rights.uid !== undefined || rights.gid !== undefined;
      if (e instanceof WriteRefused || owned || (st.mode & 0o777 & ~want) !== 0) {
        throw e instanceof WriteRefused
          ? e
          : new WriteRefused(
              `cannot set the mode of ${destination} to ${octal(want)} (${(e as Error).message}) and its mode ` +
                `${octal(st.mode)} is wider; chmod it where it is mounted from`,
            );
      }
    }
    await fh.truncate(0);
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Removes temporary files a previous tend left next to `destination` when it died between write and rename.
 * Files of this very process are left alone.
 */
export async function removeLeftovers(destination: string): Promise<number> {
  const dir = dirname(destination);
  const prefix = `.${basename(destination)}${TEMP_MARK}`;
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return 0;
  }
  let removed = 0;
  for (const name of names) {
    if (!name.startsWith(prefix) || !name.endsWith('.tmp')) continue;
    const pid = Number(name.slice(prefix.length).split('-')[0]);
    if (pid === process.pid) continue;
    await unlink(join(dir, name)).then(
      () => removed++,
      () => {},
    );
  }
  return removed;
}
