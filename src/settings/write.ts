import { chmod, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { makeDir, writeFileAtomic } from '../fsx/index.js';

const NAME = 'settings.json';

/**
 * Writes `<dir>/settings.json` for services (TEND_SETTINGS_FILE). A service may read it at any moment, so it
 * must never see a half-written file, nor the passwords settings often carry in a readable temp file: the
 * one atomic writer, mode 0600 from before the first byte. Unchanged bytes are not rewritten, so watchers of
 * the file stay quiet.
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

  await writeFileAtomic(path, bytes, { mode: 0o600 });
  return path;
}
