import { constants } from 'node:fs';
import { appendFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { TendEvent } from '../events/index.js';
import { makeDir } from '../fsx/index.js';
import { payload } from './format.js';
import type { Outcome } from './runner.js';

const APPEND_FLAGS = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW;

/**
 * JSON lines, one append per batch. The file is opened per batch, so logrotate's move-and-recreate works
 * without a signal, and its folder is (re)created when missing.
 */
export function fileDeliver(path: string, app: string, host: string) {
  let needDir = true;
  return async (events: TendEvent[]): Promise<Outcome> => {
    const text = `${events.map((e) => payload(e, app, host)).join('\n')}\n`;
    try {
      if (needDir) {
        await makeDir(dirname(path));
        needDir = false;
      }
      // created for tend's user only: events carry service names, reasons and probe output
      // (and never through a symlink planted where it goes)
      await appendFile(path, text, { mode: 0o600, flag: APPEND_FLAGS });
      return { ok: true };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') needDir = true;
      return { ok: false, retry: false, error: `cannot append to ${path}: ${(err as Error).message}` };
    }
  };
}
