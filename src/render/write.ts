/**
 * Replacing a rendered file so that a reader never sees half of it: the new bytes go to a temporary file in
 * the same folder (same file system, so rename is atomic), are flushed to disk, and the temporary file is
 * renamed over the destination. A destination that is itself a bind mount (Docker's `-v file:file`) cannot be
 * renamed over (EBUSY, or EXDEV across file systems): it is then rewritten in place, the best that can be done.
 *
 * The temporary file is also what `check` validates, so what goes live is exactly what was checked.
 */
import { chmod, chown, open, readdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { makeDir, tempPathFor } from '../fsx/index.js';

export interface Staged {
  /** the temporary file holding the new content, next to the destination */
  readonly path: string;
  readonly destination: string;
  /** makes it live; `in-place` when the destination could not be renamed over */
  commit(): Promise<'rename' | 'in-place'>;
  /** removes the temporary file; the destination is untouched */
  discard(): Promise<void>;
}

export interface StageOptions {
  /** file mode; default: the destination's current mode, else 0644 less the umask */
  perms?: number;
  /** for tests: runs between the write and the rename (a crash there must leave the destination whole) */
  beforeRename?: () => void | Promise<void>;
}

/** what fsx's temp names (`.NAME.tend-PID-RAND.tmp`) put after the destination's name */
const TEMP_MARK = '.tend-';

/** The destination's bytes, or undefined when it does not exist (or cannot be read). */
export async function readCurrent(destination: string): Promise<string | undefined> {
  try {
    return await readFile(destination, 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * Writes `content` next to `destination`, ready to be checked and committed. Creates the folder if needed.
 * Throws (with the path in the message) when the folder is not writable.
 */
export async function stage(destination: string, content: string, opts: StageOptions = {}): Promise<Staged> {
  await makeDir(dirname(destination));
  const previous = await stat(destination).catch(() => undefined);
  const path = tempPathFor(destination);
  const mode = opts.perms ?? (previous ? previous.mode & 0o7777 : undefined);
  // Mode and owner before the first byte (as fsx's writeFileAtomic): a secret is never readable from the
  // staged file, not even while `check` runs.
  const fh = await open(path, 'wx', mode ?? 0o666);
  try {
    if (mode !== undefined) await fh.chmod(mode);
    // As root, keep the owner an operator gave the file (a service running as another user reads it).
    if (previous && process.getuid?.() === 0 && (previous.uid !== 0 || previous.gid !== 0)) {
      await fh.chown(previous.uid, previous.gid).catch(() => {});
      if (mode !== undefined && mode & 0o6000) await fh.chmod(mode);
    }
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
          await writeFile(destination, await readFile(path));
          const mode = opts.perms ?? (await stat(path)).mode & 0o7777;
          await chmod(destination, mode).catch(() => {});
          if (previous && process.getuid?.() === 0)
            await chown(destination, previous.uid, previous.gid).catch(() => {});
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
