/**
 * The one atomic file writer. A reader (a service, a watcher, a template) may open the file at any moment, so
 * it must see the old content or the new, never half of it, and never the new content with the wrong rights:
 * the temp file lives in the same folder (a rename across file systems is a copy), gets its final mode and
 * owner BEFORE the first byte is written (a secret is never readable from a 0644 temp file, not even for an
 * instant), is fsynced, then renamed over the target.
 */
import { randomBytes } from 'node:crypto';
import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export interface AtomicWriteOptions {
  /** the file's permission bits, exactly (the umask does not apply); default 0666 less the umask, as writeFile */
  mode?: number;
  /** owner and group of the file (tend runs as root and writes for a service's user); default: tend's */
  uid?: number;
  gid?: number;
  /**
   * fsync the file before the rename and the folder after it, so that a power cut leaves the old content or the
   * new one (default true). Files rewritten often whose loss on a crash costs nothing pass false.
   */
  fsync?: boolean;
}

/** The temp file's name: hidden, next to the target, unique per writer, recognisable as tend's. */
export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.tend-${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
}

export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  opts: AtomicWriteOptions = {},
): Promise<void> {
  const tmp = tempPathFor(path);
  const fsync = opts.fsync !== false;
  try {
    // Created with the final mode (or a stricter one: the umask only removes bits), then set exactly, and
    // owned by its reader, all before a byte is in it.
    const fh = await open(tmp, 'wx', opts.mode ?? 0o666);
    try {
      if (opts.mode !== undefined) await fh.chmod(opts.mode);
      if (opts.uid !== undefined || opts.gid !== undefined) {
        await fh.chown(opts.uid ?? -1, opts.gid ?? -1);
        // chown clears set-user/group-ID bits: put the mode back as asked
        if (opts.mode !== undefined && opts.mode & 0o6000) await fh.chmod(opts.mode);
      }
      await fh.writeFile(data);
      if (fsync) await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => {});
    throw err;
  }
  if (fsync) await syncDir(dirname(path));
}

/** Makes a rename durable; some file systems refuse fsync on a folder, which is fine. */
async function syncDir(dir: string): Promise<void> {
  try {
    const fh = await open(dir, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch {
    // best effort only
  }
}
