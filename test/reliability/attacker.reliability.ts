/**
 * tend as root against a second local user who tries to make it misbehave (issue 13). Each test makes the user
 * with useradd and removes it after. The user acts through `setpriv`, with its own uid and groups.
 */
import { spawn } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runTend, startTend, stopAllTends } from '../helpers/cli.js';
import { canMakeUsers, makeUser, type TestUser } from '../helpers/users.js';
import { alive } from '../helpers/wait.js';
import { tally } from './helpers.js';

const users: TestUser[] = [];
const dirs: string[] = [];
const victims: number[] = [];
afterEach(async () => {
  await stopAllTends();
  for (const pid of victims.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {}
  }
  for (const u of users.splice(0)) u.remove();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function attacker(): TestUser {
  const u = makeUser();
  users.push(u);
  return u;
}

/** A folder both root and the attacker may create in, like /tmp: world-writable with the sticky bit. */
function sharedFolder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tend-shared-'));
  dirs.push(dir);
  chmodSync(dir, 0o1777);
  return dir;
}

function victim(): number {
  const p = spawn('sleep', ['300'], { stdio: 'ignore', detached: true });
  p.unref();
  victims.push(p.pid!);
  return p.pid!;
}

const startTime = (pid: number) => readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')[19];

describe.skipIf(!canMakeUsers)('another local user against tend run as root', () => {
  it('a state folder the attacker made first, with a planted procs.json, is refused: nothing is killed', () => {
    const t = tally('attacker: pre-created state folder with a planted pid record');
    const evil = attacker();
    const shared = sharedFolder();
    const state = join(shared, 'state');
    const pid = victim();
    // the attacker prepares the folder tend will use, naming a root process as a leftover of "a killed run"
    expect(evil.run(['mkdir', '-m', '0755', state]).status).toBe(0);
    const record = JSON.stringify({
      version: 1,
      runId: 'planted',
      tendPid: 1,
      entries: [{ pid, pgid: pid, service: 'web', startTime: Number(startTime(pid)), runId: 'planted' }],
    });
    expect(evil.run(['sh', '-c', `printf '%s' '${record}' > ${state}/procs.json`]).status).toBe(0);
    const project = mkdtempSync(join(tmpdir(), 'tend-attack-'));
    dirs.push(project);
    writeFileSync(
      join(project, 'tend.yaml'),
      `state_dir: ${state}\nservices:\n  web:\n    command: sleep 60\n`,
    );
    const r = runTend(['up'], { cwd: project });
    t.add('starts refused');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      new RegExp(`state folder ${state} belongs to uid ${evil.uid}, not to tend's user`),
    );
    expect(alive(pid)).toBe(true);
  });

  it('a state folder that is a symlink, or lies in a folder the attacker owns, is refused', () => {
    const evil = attacker();
    const shared = sharedFolder();
    const theirs = join(shared, 'theirs');
    expect(evil.run(['mkdir', '-m', '0777', theirs]).status).toBe(0);
    const link = join(shared, 'link');
    expect(evil.run(['ln', '-s', '/root', link]).status).toBe(0);
    const project = mkdtempSync(join(tmpdir(), 'tend-attack-'));
    dirs.push(project);
    for (const [state, why] of [
      [link, 'is a symlink'],
      [join(theirs, 'state'), `lies in ${theirs}, which belongs to uid ${evil.uid}`],
    ]) {
      writeFileSync(
        join(project, 'tend.yaml'),
        `state_dir: ${state}\nservices:\n  web:\n    command: sleep 60\n`,
      );
      const r = runTend(['up'], { cwd: project });
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain(why);
    }
    // nothing was written through the link
    expect(existsSync('/root/tend.pid')).toBe(false);
  });

  it('a symlink planted where a service log goes does not make root append to its target', async () => {
    const evil = attacker();
    const shared = sharedFolder();
    const target = join(mkdtempSync(join(tmpdir(), 'tend-root-only-')), 'secret');
    dirs.push(join(target, '..'));
    writeFileSync(target, 'root only\n', { mode: 0o600 });
    expect(evil.run(['ln', '-s', target, join(shared, 'web.log')]).status).toBe(0);
    const project = mkdtempSync(join(tmpdir(), 'tend-attack-'));
    dirs.push(project);
    writeFileSync(
      join(project, 'tend.yaml'),
      `state_dir: ${join(project, 'state')}\nservices:\n  web:\n    command: 'echo appended; sleep 60'\n    logs: { file: ${join(shared, 'web.log')} }\n`,
    );
    const tend = startTend(['up'], { cwd: project });
    await tend.waitForOutput(/app UP/, 15_000);
    await tend.waitForOutput(/appended/);
    tend.kill('SIGTERM');
    await tend.exit(15_000);
    expect(readFileSync(target, 'utf8')).toBe('root only\n');
    expect(statSync(target).mode & 0o777).toBe(0o600);
  });

  it('tend run as root keeps its state in a 0700 folder of its own', async () => {
    const project = mkdtempSync(join(tmpdir(), 'tend-attack-'));
    dirs.push(project);
    const xdg = join(project, 'xdg');
    mkdirSync(xdg, { mode: 0o700 });
    const tend = startTend(['run', '--name', 'solo', '--', 'sleep', '60'], {
      cwd: project,
      env: { XDG_RUNTIME_DIR: xdg },
    });
    await tend.waitForOutput(/solo running/, 15_000);
    expect(statSync(join(xdg, 'tend/solo')).mode & 0o777).toBe(0o700);
    tend.kill('SIGTERM');
    await tend.exit(15_000);
  });
});
