/**
 * A folder's inotify events while something writes there, in kernel order (`CREATE .x.tmp`, `ATTRIB …`,
 * `MODIFY …`), from a small Python logger: how the tests prove a file had its mode before its first byte.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const LOGGER = fileURLToPath(new URL('../fsx/fixtures/inotify-log.py', import.meta.url));

/** The events of `dir` while `write` runs, up to the rename out of the temp file (the logger then exits). */
export async function eventsDuring(dir: string, write: () => Promise<unknown>): Promise<string[]> {
  const child = spawn('python3', [LOGGER, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  let text = '';
  const ready = new Promise<void>((resolve) => {
    child.stdout.on('data', (c: Buffer) => {
      text += c.toString();
      if (text.startsWith('ready\n')) resolve();
    });
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await ready;
  await write();
  await exited;
  return text.split('\n').slice(1).filter(Boolean);
}

/** The events of temp files only, as their kinds. */
export const ofTemp = (events: string[]) =>
  events.filter((e) => e.split(' ')[1]?.endsWith('.tmp')).map((e) => e.split(' ')[0]);
