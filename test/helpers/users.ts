/**
 * A second local Unix user for the tests that play an attacker (or run a service as another user): made with
 * `useradd` as the test starts and removed with `userdel` after it, whatever the outcome. Needs root; a test
 * that needs one skips itself elsewhere (`canMakeUsers`).
 */
import { execFileSync, type SpawnSyncReturns, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

export interface TestUser {
  name: string;
  uid: number;
  gid: number;
  /** runs `argv` as this user (setpriv with the user's own groups) and returns what it printed */
  run(argv: string[], opts?: { cwd?: string }): SpawnSyncReturns<string>;
  remove(): void;
}

export const canMakeUsers = process.geteuid?.() === 0 && spawnSync('which', ['useradd']).status === 0;

export function makeUser(prefix = 'tendt'): TestUser {
  const name = `${prefix}${randomBytes(3).toString('hex')}`;
  execFileSync('useradd', ['--no-create-home', '--shell', '/bin/sh', '--user-group', name]);
  const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8' }).trim());
  let removed = false;
  return {
    name,
    uid,
    gid,
    run(argv, opts = {}) {
      return spawnSync(
        'setpriv',
        [`--reuid=${uid}`, `--regid=${gid}`, '--init-groups', '--reset-env', '--', ...argv],
        { encoding: 'utf8', cwd: opts.cwd ?? '/' },
      );
    },
    remove() {
      if (removed) return;
      removed = true;
      spawnSync('userdel', ['--force', name]);
    },
  };
}
