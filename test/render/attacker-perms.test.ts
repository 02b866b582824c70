/**
 * Issue 13, the template-file rows, played by a real second local user (useradd, removed after) against tend
 * run as root: a watcher that reads every file appearing in the folder, a destination the user created first,
 * a symlink planted at the destination, a folder the user can write.
 */
import { spawn } from 'node:child_process';
import {
  chmodSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { chmod, open, rename } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tempPathFor } from '../../src/fsx/index.js';
import type { TemplatePlan } from '../../src/manifest/types.js';
import { commitChecked } from '../../src/render/unit.js';
import { runTend } from '../helpers/cli.js';
import { canMakeUsers, makeUser, type TestUser } from '../helpers/users.js';

const users: TestUser[] = [];
const dirs: string[] = [];
afterEach(() => {
  for (const u of users.splice(0)) u.remove();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function attacker(): TestUser {
  const u = makeUser();
  users.push(u);
  return u;
}

/** A folder root and the attacker may both create in, like /tmp: world-writable with the sticky bit. */
function sharedFolder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tend-shared-'));
  dirs.push(dir);
  chmodSync(dir, 0o1777);
  return dir;
}

function project(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'tend-attack-'));
  dirs.push(dir);
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(join(dir, rel, '..'), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
  return dir;
}

/** One template rendering the KV key `pw` into `destination`. */
const manifest = (destination: string, extra = '') =>
  `services:\n  web:\n    command: exec sleep 60\n    templates:\n      - { source: web.tmpl, destination: ${destination}${extra} }\n`;

/**
 * As the attacker: reads every file that appears or changes in `dir` the moment inotify reports it, and counts
 * the reads that held `needle`. Stops on SIGTERM and prints the count.
 */
const WATCHER = `
import ctypes, os, signal, struct, sys
libc = ctypes.CDLL('libc.so.6', use_errno=True)
fd = libc.inotify_init()
if fd < 0 or libc.inotify_add_watch(fd, sys.argv[1].encode(), 0x2 | 0x4 | 0x8 | 0x100) < 0:
    sys.exit('inotify: errno %d' % ctypes.get_errno())
hits = 0
def stop(*_):
    print(hits, flush=True)
    os._exit(0)
signal.signal(signal.SIGTERM, stop)
print('ready', flush=True)
while True:
    buf = os.read(fd, 65536)
    i = 0
    while i < len(buf):
        _wd, _m, _c, size = struct.unpack_from('iIII', buf, i)
        name = buf[i + 16:i + 16 + size].rstrip(b'\\0').decode()
        i += 16 + size
        try:
            with open(os.path.join(sys.argv[1], name), 'rb') as f:
                if sys.argv[2].encode() in f.read():
                    hits += 1
        except OSError:
            pass
`;

async function watchAs(user: TestUser, dir: string, needle: string) {
  const child = spawn(
    'setpriv',
    [
      `--reuid=${user.uid}`,
      `--regid=${user.gid}`,
      '--init-groups',
      '--',
      '/usr/bin/python3',
      '-c',
      WATCHER,
      dir,
      needle,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.startsWith('ready\n')) resolve();
    });
    child.once('exit', () => reject(new Error(`watcher exited: ${out}`)));
  });
  return async (): Promise<number> => {
    const done = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    await done;
    return Number(out.split('\n')[1]);
  };
}

function plan(destination: string, perms: number): TemplatePlan {
  return {
    source: '/dev/null',
    destination,
    perms,
    onChange: { kind: 'none' },
    wait: { minMs: 0, maxMs: 0 },
    missing: 'wait',
    missingTimeoutMs: 1000,
    leftDelim: '{{',
    rightDelim: '}}',
    errMissingKey: false,
    functions: { allow: [], deny: [] },
  };
}

describe.skipIf(!canMakeUsers)('another local user against the files tend renders as root', () => {
  it('perms "0600": a watcher reading every new file in the folder reads no secret in 150 changes', async () => {
    const evil = attacker();
    const shared = sharedFolder();
    const dest = join(shared, 'secret.env');
    const stop = await watchAs(evil, shared, 'hunter2');
    for (let i = 0; i < 150; i++) {
      const r = await commitChecked(plan(dest, 0o600), `PASSWORD=hunter2-${i}\n`, {
        env: {},
        service: 'web',
        cwd: shared,
      });
      expect(r.status).toBe('rendered');
    }
    expect(await stop()).toBe(0);
    expect(statSync(dest).mode & 0o7777).toBe(0o600);
  });

  it('the same watcher does read the secret from a writer that sets the mode after writing', async () => {
    const evil = attacker();
    const shared = sharedFolder();
    const stop = await watchAs(evil, shared, 'hunter2');
    const tmp = tempPathFor(join(shared, 'secret.env'));
    const fh = await open(tmp, 'wx', 0o644);
    await fh.writeFile('PASSWORD=hunter2\n');
    await fh.close();
    // the window the old writer left open, made wide enough to be seen every time
    await new Promise((r) => setTimeout(r, 500));
    await chmod(tmp, 0o600);
    await rename(tmp, join(shared, 'secret.env'));
    expect(await stop()).toBeGreaterThan(0);
  });

  it('a destination the attacker created first (0666) becomes a new 0640 file of root that they cannot read', () => {
    const evil = attacker();
    const shared = sharedFolder();
    const dest = join(shared, 'app.conf');
    expect(evil.run(['sh', '-c', `umask 0; echo planted > ${dest}`]).status).toBe(0);
    const planted = statSync(dest);
    expect(planted.uid).toBe(evil.uid);
    const dir = project({
      'kv/pw': 'hunter2',
      'web.tmpl': 'password={{ key "pw" }}\n',
      'tend.yaml': manifest(dest),
    });
    const r = runTend(['render'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const st = statSync(dest);
    expect([st.uid, st.gid, st.mode & 0o7777]).toEqual([0, 0, 0o640]);
    expect(st.ino).not.toBe(planted.ino);
    expect(readFileSync(dest, 'utf8')).toBe('password=hunter2\n');
    const read = evil.run(['cat', dest]);
    expect(read.status).not.toBe(0);
    expect(read.stdout).not.toContain('hunter2');
    // the sticky bit keeps them from swapping it now that it is root's
    expect(evil.run(['rm', '-f', dest]).status).not.toBe(0);
    expect(evil.run(['mv', dest, `${dest}.x`]).status).not.toBe(0);
  });

  it('a symlink the attacker planted at the destination is replaced, never written through', () => {
    const evil = attacker();
    const shared = sharedFolder();
    const dir = project({ 'kv/pw': 'hunter2', 'web.tmpl': 'password={{ key "pw" }}\n' });
    const target = join(dir, 'root-only');
    writeFileSync(target, 'root only\n', { mode: 0o600 });
    const dest = join(shared, 'app.conf');
    expect(evil.run(['ln', '-s', target, dest]).status).toBe(0);
    writeFileSync(join(dir, 'tend.yaml'), manifest(dest));
    const r = runTend(['render'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(target, 'utf8')).toBe('root only\n');
    expect(statSync(target).mode & 0o7777).toBe(0o600);
    const st = lstatSync(dest);
    expect(st.isFile()).toBe(true);
    expect(st.uid).toBe(0);
  });

  it('a destination folder others can write without the sticky bit, or behind a symlink the attacker planted, is refused', () => {
    const evil = attacker();
    const dir = project({ 'kv/pw': 'hunter2', 'web.tmpl': 'password={{ key "pw" }}\n' });
    const open = join(dir, 'open');
    mkdirSync(open);
    chmodSync(open, 0o777);
    writeFileSync(join(dir, 'tend.yaml'), manifest(join(open, 'app.conf')));
    let r = runTend(['render'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${open} is writable by every user (mode 0777) without the sticky bit`);
    expect(r.stderr).not.toContain('hunter2');
    // a folder on the way that the attacker planted as a symlink in a shared folder: it decides where root writes
    const shared = sharedFolder();
    const rootOnly = join(dir, 'root-only');
    mkdirSync(rootOnly, { mode: 0o700 });
    expect(evil.run(['ln', '-s', rootOnly, join(shared, 'conf')]).status).toBe(0);
    writeFileSync(join(dir, 'tend.yaml'), manifest(join(shared, 'conf/app.conf')));
    r = runTend(['render'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${join(shared, 'conf')} is a symlink uid ${evil.uid} made in ${shared}`);
    expect(readdirSync(rootOnly)).toEqual([]);
  });

  it('user and group give the file to the named account; an unknown one is a tend check error with its position', () => {
    const evil = attacker();
    const shared = sharedFolder();
    const dest = join(shared, 'app.conf');
    const dir = project({
      'kv/pw': 'hunter2',
      'web.tmpl': 'password={{ key "pw" }}\n',
      'tend.yaml': manifest(dest, `, perms: "0400", user: ${evil.name}, group: ${evil.name}`),
    });
    const check = runTend(['check'], { cwd: dir });
    expect(check.code, check.stderr).toBe(0);
    expect(check.stdout).toContain(`mode 0400, owner ${evil.name}:${evil.name}`);
    const r = runTend(['render'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const st = statSync(dest);
    expect([st.uid, st.gid, st.mode & 0o7777]).toEqual([evil.uid, evil.gid, 0o400]);
    expect(evil.run(['cat', dest]).stdout).toBe('password=hunter2\n');

    writeFileSync(join(dir, 'tend.yaml'), manifest(dest, ', user: nosuchuserzz, group: nosuchgroupzz'));
    const bad = runTend(['check'], { cwd: dir });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(
      /tend\.yaml:5:\d+: services\.web\.templates\[0\]\.user: no user "nosuchuserzz"/,
    );
    expect(bad.stderr).toMatch(
      /tend\.yaml:5:\d+: services\.web\.templates\[0\]\.group: no group "nosuchgroupzz"/,
    );
  });
});
