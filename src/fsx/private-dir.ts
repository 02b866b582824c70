/**
 * A folder only tend's user controls: where tend keeps what it trusts (its pid file, the pid record it kills
 * from, its control socket). Another local user who could create or swap it could make root kill any process
 * (a planted `procs.json`), overwrite any file (a `tend.pid` symlink) or answer for tend (a planted
 * `tend.sock`). So the folder is created 0700 by tend, and an existing one is accepted only if it is a real
 * folder (not a symlink), owned by tend's user, writable by nobody else, under parents that nobody else can
 * rename it out of (each parent is owned by root or tend's user, and writable by others only with the sticky
 * bit, as `/tmp` is).
 */
import { chmodSync, lstatSync, mkdirSync, type Stats } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { makeDirSync } from './make-dir.js';

export class PrivateDirError extends Error {
  override name = 'PrivateDirError';
}

const S_ISVTX = 0o1000;

function describeOwner(st: Stats): string {
  return `uid ${st.uid}`;
}

/**
 * Creates `dir` (mode 0700) if it is missing, its parents as `mkdir -p` would, then checks it as the comment at
 * the top says. Throws PrivateDirError with what is wrong and what to do; `role` names the folder in it.
 */
export function ensurePrivateDir(dir: string, role = 'state folder'): void {
  const path = resolve(dir);
  const uid = process.geteuid?.() ?? 0;
  let created = false;
  try {
    mkdirSync(path, { mode: 0o700 });
    created = true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      makeDirSync(dirname(path));
      try {
        mkdirSync(path, { mode: 0o700 });
        created = true;
      } catch (again) {
        if ((again as NodeJS.ErrnoException).code !== 'EEXIST') throw again;
      }
    } else if (code !== 'EEXIST') throw e;
  }
  const st = lstatSync(path);
  const refuse = (why: string) =>
    new PrivateDirError(
      `${role} ${path} ${why}; tend keeps its pid file, pid record and control socket there and refuses a ` +
        'folder another user controls: remove it (tend creates it again, mode 0700) or set another state_dir',
    );
  if (st.isSymbolicLink()) throw refuse('is a symlink');
  if (!st.isDirectory()) throw refuse('is not a folder');
  if (st.uid !== uid) throw refuse(`belongs to ${describeOwner(st)}, not to tend's user (uid ${uid})`);
  if ((st.mode & 0o022) !== 0) {
    if (created) chmodSync(path, 0o700);
    else
      throw refuse(
        `is writable by ${(st.mode & 0o002) !== 0 ? 'every user' : 'its group'} (mode ${octal(st.mode)})`,
      );
  }
  for (let parent = dirname(path); ; parent = dirname(parent)) {
    const p = lstatSync(parent);
    const foreign = p.uid !== 0 && p.uid !== uid;
    const othersWrite = (p.mode & 0o022) !== 0 && (p.mode & S_ISVTX) === 0;
    if (foreign && (p.mode & 0o200) !== 0) {
      throw refuse(`lies in ${parent}, which belongs to ${describeOwner(p)} (it could swap the folder)`);
    }
    if (othersWrite) {
      throw refuse(
        `lies in ${parent}, which other users can write without the sticky bit (mode ${octal(p.mode)})`,
      );
    }
    if (parent === dirname(parent)) break;
  }
}

const octal = (mode: number) => `0${(mode & 0o7777).toString(8)}`;
