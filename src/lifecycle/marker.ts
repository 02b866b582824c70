/**
 * The firstboot marker, `<data_dir>/.tend-firstboot`: its presence means `firstboot` has succeeded on this
 * data folder, so a fresh volume gets a first boot and a reused one does not. It is written only after
 * success (a failed first boot runs again next time) and atomically (a crash mid-write leaves no marker).
 * Delete it to run `firstboot` again.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { makeDir, writeFileAtomic } from '../fsx/index.js';

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
  const body = `${JSON.stringify({ app, firstboot: new Date().toISOString() })}\n`;
  await writeFileAtomic(path, body, { mode: 0o644 });
  return path;
}
