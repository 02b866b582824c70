/**
 * The firstboot marker, `<data_dir>/.tend-firstboot`: its presence means `firstboot` has succeeded on this
 * data folder, so a fresh volume gets a first boot and a reused one does not. It is written only after
 * success (a failed first boot runs again next time) and atomically (a crash mid-write leaves no marker).
 * Delete it to run `firstboot` again.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { makeDir } from '../fsx/index.js';

export const FIRSTBOOT_MARKER = '.tend-firstboot';

export function markerPath(dataDir: string): string {
  return join(dataDir, FIRSTBOOT_MARKER);
}

export function hasFirstbootMarker(dataDir: string): boolean {
  return existsSync(markerPath(dataDir));
}

export async function writeFirstbootMarker(dataDir: string, app: string): Promise<string> {
  const path = markerPath(dataDir);
  await makeDir(dataDir);
  const tmp = join(dataDir, `${FIRSTBOOT_MARKER}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const body = `${JSON.stringify({ app, firstboot: new Date().toISOString() })}\n`;
  try {
    const fh = await open(tmp, 'wx', 0o644);
    try {
      await fh.writeFile(body);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => {});
    throw err;
  }
  return path;
}
