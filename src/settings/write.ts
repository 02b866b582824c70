import { randomBytes } from 'node:crypto';
import { chmod, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { makeDir } from '../fsx/index.js';

const NAME = 'settings.json';

/**
 * Writes `<dir>/settings.json` for services (TEND_SETTINGS_FILE). A service may read it at any moment, so it
 * must never see a half-written file: temp file in the same folder, fsync, rename. Mode 0600 because
 * settings often carry passwords. Unchanged bytes are not rewritten, so watchers of the file stay quiet.
 */
export async function writeSettingsFile(dir: string, value: unknown): Promise<string> {
  const path = join(dir, NAME);
  const bytes = Buffer.from(`${JSON.stringify(value, null, 2)}\n`, 'utf8');
  await makeDir(dir);

  const current = await readFile(path).catch(() => undefined);
  if (current?.equals(bytes)) {
    const st = await stat(path);
    if ((st.mode & 0o777) !== 0o600) await chmod(path, 0o600);
    return path;
  }

  const tmp = join(dir, `.${NAME}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    const fh = await open(tmp, 'wx', 0o600);
    try {
      // open's mode is filtered by the umask; the file must be exactly 0600 whatever the umask says.
      await fh.chmod(0o600);
      await fh.writeFile(bytes);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => {});
    throw err;
  }
  await syncDir(dir);
  return path;
}

/** Makes the rename itself durable; some file systems refuse fsync on a folder, which is fine. */
async function syncDir(dir: string) {
  try {
    const fh = await open(dir, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch {
    // Best effort only.
  }
}
