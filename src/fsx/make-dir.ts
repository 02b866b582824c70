/**
 * File-system helpers where Node's own behaviour is wrong for a supervisor.
 *
 * `mkdir(path, { recursive: true })` loops forever, at 100 % CPU and, in the synchronous form, with the event
 * loop frozen so that not even SIGTERM gets through, when mkdir answers ENOENT under a parent that exists: procfs
 * does (`state_dir: /proc/x`, a log file under `/proc`), and so may other virtual file systems. These walk up
 * the same way but take a second ENOENT, after the parent was made, as the final answer.
 */
import { mkdirSync, statSync } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import { dirname } from 'node:path';

const code = (e: unknown) => (e as NodeJS.ErrnoException).code;

/** `mkdir -p dir`: creates `dir` and its missing parents; an existing directory is fine. */
export async function makeDir(dir: string): Promise<void> {
  try {
    await mkdir(dir);
    return;
  } catch (e) {
    if (code(e) === 'EEXIST' && (await isDir(dir))) return;
    const parent = dirname(dir);
    if (code(e) !== 'ENOENT' || parent === dir) throw e;
    await makeDir(parent);
  }
  try {
    await mkdir(dir);
  } catch (e) {
    if (code(e) === 'EEXIST' && (await isDir(dir))) return;
    throw e;
  }
}

/** The same, synchronously (for start-up, before anything runs). */
export function makeDirSync(dir: string): void {
  try {
    mkdirSync(dir);
    return;
  } catch (e) {
    if (code(e) === 'EEXIST' && isDirSync(dir)) return;
    const parent = dirname(dir);
    if (code(e) !== 'ENOENT' || parent === dir) throw e;
    makeDirSync(parent);
  }
  try {
    mkdirSync(dir);
  } catch (e) {
    if (code(e) === 'EEXIST' && isDirSync(dir)) return;
    throw e;
  }
}

async function isDir(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

function isDirSync(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
