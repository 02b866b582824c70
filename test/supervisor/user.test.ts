/**
 * `user:` on a service (issue 13): the service and every child of it (exec readiness probe, finish hook) run as
 * that user, with its supplementary groups and its HOME/USER/LOGNAME; a tend that is not root refuses it; an
 * unknown user is a `tend check` error. Real users (useradd, removed after), the built CLI, real processes.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI, runTend, startTend, stopAllTends } from '../helpers/cli.js';
import { canMakeUsers, makeUser, type TestUser } from '../helpers/users.js';
import { waitFor } from '../helpers/wait.js';

const users: TestUser[] = [];
const groups: string[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await stopAllTends();
  for (const u of users.splice(0)) u.remove();
  for (const g of groups.splice(0)) spawnSync('groupdel', [g]);
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A user who is also a member of a second group (the supplementary group a service must keep). */
function userWithGroup(): { user: TestUser; extraGid: number } {
  const user = makeUser('tendu');
  users.push(user);
  const group = `${user.name}x`;
  execFileSync('groupadd', [group]);
  groups.push(group);
  execFileSync('usermod', ['-aG', group, user.name]);
  const extraGid = Number(execFileSync('getent', ['group', group], { encoding: 'utf8' }).split(':')[2]);
  return { user, extraGid };
}

/** A project folder anyone may enter, with an `out` folder the user may write. */
function project(owner?: TestUser): { dir: string; out: string } {
  const dir = mkdtempSync(join(tmpdir(), 'tend-user-'));
  dirs.push(dir);
  chmodSync(dir, 0o755);
  const out = join(dir, 'out');
  mkdirSync(out, { mode: 0o755 });
  if (owner) chownSync(out, owner.uid, owner.gid);
  return { dir, out };
}

/** What a child writes about itself: uid, gid, groups, HOME, USER, LOGNAME. */
const whoami = (file: string) =>
  `printf '%s|%s|%s|%s|%s|%s\\n' "$(id -u)" "$(id -g)" "$(id -G)" "$HOME" "$USER" "$LOGNAME" > ${file}`;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** A YAML scalar for a shell command (JSON's double-quoted strings are YAML's). */
const q = (s: string) => JSON.stringify(s);

function parseWho(text: string) {
  const [uid, gid, groupList, home, user, logname] = text.trim().split('|');
  return {
    uid: Number(uid),
    gid: Number(gid),
    groups: groupList.split(' ').map(Number).sort(),
    home,
    user,
    logname,
  };
}

const homeOf = (name: string) => execFileSync('getent', ['passwd', name], { encoding: 'utf8' }).split(':')[5];

describe.skipIf(!canMakeUsers)('user: on a service, tend run as root', () => {
  it('the service, its exec readiness probe and its finish hook run as the user, with its groups and HOME', async () => {
    const { user, extraGid } = userWithGroup();
    const { dir, out } = project(user);
    writeFileSync(
      join(dir, 'tend.yaml'),
      [
        'services:',
        '  app:',
        `    user: ${user.name}`,
        `    command: ${q(`${whoami(`${out}/service`)}; echo $$$$ > ${out}/pid; exec sleep 300`)}`,
        `    ready: { exec: ${q(whoami(`${out}/probe`))}, interval: 100ms }`,
        `    finish: ${q(whoami(`${out}/finish`))}`,
        '',
      ].join('\n'),
    );
    const tend = startTend(['up'], { cwd: dir });
    await tend.waitForOutput(/app UP/, 20_000);
    // the probe may pass before the service's shell has written its lines
    const pid = Number(
      await waitFor(
        () => /^\d+\n$/.exec(existsSync(join(out, 'pid')) ? readFileSync(join(out, 'pid'), 'utf8') : '')?.[0],
        {
          timeoutMs: 10_000,
        },
      ),
    );
    const expected = {
      uid: user.uid,
      gid: user.gid,
      groups: [user.gid, extraGid].sort(),
      home: homeOf(user.name),
      user: user.name,
      logname: user.name,
    };
    expect(parseWho(readFileSync(join(out, 'service'), 'utf8'))).toEqual(expected);
    expect(parseWho(readFileSync(join(out, 'probe'), 'utf8'))).toEqual(expected);
    // the pid tend spawned is the service itself (setpriv execs), and it cannot get root back: real, effective,
    // saved and file-system uid are all the user's
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    expect(status).toMatch(
      new RegExp(`\\nUid:\\s+${user.uid}\\s+${user.uid}\\s+${user.uid}\\s+${user.uid}\\n`),
    );
    expect(status).toMatch(
      new RegExp(`\\nGid:\\s+${user.gid}\\s+${user.gid}\\s+${user.gid}\\s+${user.gid}\\n`),
    );
    expect(status).toMatch(/\nCapEff:\s+0+\n/);
    expect(tend.output()).toMatch(new RegExp(`app running \\(pid ${pid}\\)`));
    tend.kill('SIGTERM');
    expect(await tend.exit(20_000)).toBe(0);
    await waitFor(() => existsSync(join(out, 'finish')), { timeoutMs: 10_000 });
    expect(parseWho(readFileSync(join(out, 'finish'), 'utf8'))).toEqual(expected);
    // tend writes the service's log itself: it stays root's
    const check = runTend(['check'], { cwd: dir });
    expect(check.code, check.stderr).toBe(0);
    expect(check.stdout).toMatch(
      new RegExp(
        `\\n\\s+user\\s+${user.name} \\(uid ${user.uid}:${user.gid}, groups ${extraGid}, home ${homeOf(user.name)}\\)\\n`,
      ),
    );
  });

  it('name:group switches the primary group; without setpriv the user keeps uid and gid, tend warns once', async () => {
    const { user, extraGid } = userWithGroup();
    const { dir, out } = project(user);
    writeFileSync(
      join(dir, 'tend.yaml'),
      [
        'services:',
        '  a:',
        `    user: ${user.name}:${user.name}x`,
        `    command: ${q(`${whoami(`${out}/a`)}; exec sleep 300`)}`,
        '  b:',
        `    user: ${user.uid}`,
        `    command: ${q(`${whoami(`${out}/b`)}; exec sleep 300`)}`,
        '',
      ].join('\n'),
    );
    const tend = startTend(['up'], { cwd: dir, env: { TEND_SETPRIV: '' } });
    await tend.waitForOutput(/app UP/, 20_000);
    await waitFor(() => existsSync(join(out, 'a')) && existsSync(join(out, 'b')), { timeoutMs: 10_000 });
    const a = parseWho(readFileSync(join(out, 'a'), 'utf8'));
    expect([a.uid, a.gid, a.user]).toEqual([user.uid, extraGid, user.name]);
    // child_process drops supplementary groups: only the primary one is left
    expect(a.groups).toEqual([extraGid]);
    const b = parseWho(readFileSync(join(out, 'b'), 'utf8'));
    expect([b.uid, b.gid]).toEqual([user.uid, user.gid]);
    expect(tend.output().match(/setpriv \(util-linux\) was not found/g)).toHaveLength(1);
    tend.kill('SIGTERM');
    expect(await tend.exit(20_000)).toBe(0);
  });

  it("a template's check and on_change exec run as the service's user", async () => {
    const { user, extraGid } = userWithGroup();
    const { dir, out } = project(user);
    mkdirSync(join(dir, 'kv', 'app'), { recursive: true });
    writeFileSync(join(dir, 'kv', 'app', 'msg'), 'one');
    writeFileSync(join(dir, 'app.tmpl'), 'msg={{ key "app/msg" }}\n');
    writeFileSync(
      join(dir, 'tend.yaml'),
      [
        'kv: file:./kv',
        'services:',
        '  app:',
        `    user: ${user.name}`,
        '    command: exec sleep 300',
        '    templates:',
        '      - source: app.tmpl',
        '        destination: conf/app.conf',
        `        check: ${q(`${whoami(`${out}/check`)} && cat "$TEND_CHECK_FILE" >> ${out}/check`)}`,
        `        on_change: { exec: ${q(whoami(`${out}/onchange`))} }`,
        '',
      ].join('\n'),
    );
    const tend = startTend(['up'], { cwd: dir });
    await tend.waitForOutput(/app UP/, 20_000);
    const expected = {
      uid: user.uid,
      gid: user.gid,
      groups: [user.gid, extraGid].sort(),
      home: homeOf(user.name),
      user: user.name,
      logname: user.name,
    };
    const [who, content] = readFileSync(join(out, 'check'), 'utf8').split('\n');
    expect(parseWho(who)).toEqual(expected);
    // the check read the staged file as the service will read the live one
    expect(content).toBe('msg=one');
    writeFileSync(join(dir, 'kv', 'app', 'msg'), 'two');
    await waitFor(
      () => existsSync(join(out, 'onchange')) && readFileSync(join(out, 'onchange'), 'utf8').endsWith('\n'),
      {
        timeoutMs: 15_000,
      },
    );
    expect(parseWho(readFileSync(join(out, 'onchange'), 'utf8'))).toEqual(expected);
    tend.kill('SIGTERM');
    expect(await tend.exit(20_000)).toBe(0);
  });

  it('a socket tend binds (listen:) reaches a service run as another user, with its own pid as LISTEN_PID', async () => {
    const user = makeUser('tendu');
    users.push(user);
    const { dir, out } = project(user);
    const port = await freePort();
    writeFileSync(
      join(dir, 'tend.yaml'),
      [
        'services:',
        '  web:',
        `    user: ${user.name}`,
        `    listen: [{ address: "127.0.0.1:${port}" }]`,
        `    command: ${q(`echo "$LISTEN_PID $$$$ $LISTEN_FDS $(id -u) $(readlink /proc/$$$$/fd/3)" > ${out}/web; exec sleep 300`)}`,
        '',
      ].join('\n'),
    );
    const tend = startTend(['up'], { cwd: dir });
    await tend.waitForOutput(/app UP/, 20_000);
    const line = String(
      await waitFor(
        () =>
          existsSync(join(out, 'web')) ? /^.+\n$/.exec(readFileSync(join(out, 'web'), 'utf8'))?.[0] : '',
        {
          timeoutMs: 10_000,
        },
      ),
    );
    const [listenPid, pid, fds, uid, fd3] = line.trim().split(' ');
    expect(listenPid).toBe(pid);
    expect([fds, Number(uid)]).toEqual(['1', user.uid]);
    expect(fd3).toMatch(/^socket:\[\d+\]$/);
    tend.kill('SIGTERM');
    expect(await tend.exit(20_000)).toBe(0);
  });

  it('an unknown user is a tend check error with its position; nothing starts', () => {
    const { dir } = project();
    writeFileSync(
      join(dir, 'tend.yaml'),
      'services:\n  app:\n    command: sleep 1\n    user: no-such-user-xyz\n',
    );
    const check = runTend(['check'], { cwd: dir });
    expect(check.code).toBe(2);
    expect(check.stderr).toMatch(
      /tend\.yaml:4:\d+: service "app": user: no user "no-such-user-xyz" in \/etc\/passwd/,
    );
    const up = runTend(['up'], { cwd: dir });
    expect(up.code).toBe(2);
    expect(up.stderr).toContain('no user "no-such-user-xyz"');
  });

  it('tend not run as root refuses user: root with exit 2, naming the service; its own user is fine', () => {
    const user = makeUser('tendu');
    users.push(user);
    const { dir } = project(user);
    chownSync(dir, user.uid, user.gid);
    writeFileSync(
      join(dir, 'tend.yaml'),
      'services:\n  mine:\n    command: exit 0\n  admin:\n    command: sleep 60\n    user: root\n',
    );
    chownSync(join(dir, 'tend.yaml'), user.uid, user.gid);
    const r = user.run([process.execPath, CLI, 'up'], { cwd: dir });
    expect(r.status, `${r.stdout}${r.stderr}`).toBe(2);
    expect(r.stderr).toMatch(/admin \(user: root, uid 0:0\)/);
    expect(r.stderr).toContain('tend must run as root for user:');
    expect(r.stderr).not.toMatch(/\bmine\b/);
    expect(r.stdout).not.toMatch(/running/);
  });

  it('tend not run as root refuses a reload that adds user: root, and keeps what runs', async () => {
    const user = makeUser('tendu');
    users.push(user);
    const { dir } = project(user);
    chownSync(dir, user.uid, user.gid);
    const manifest = join(dir, 'tend.yaml');
    writeFileSync(manifest, 'services:\n  mine:\n    command: exec sleep 300\n');
    chownSync(manifest, user.uid, user.gid);
    const tend = spawn(
      'setpriv',
      [`--reuid=${user.uid}`, `--regid=${user.gid}`, '--init-groups', '--', process.execPath, CLI, 'up'],
      {
        cwd: dir,
        env: { PATH: process.env.PATH, NO_COLOR: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      },
    );
    let output = '';
    tend.stdout?.on('data', (d) => {
      output += d;
    });
    tend.stderr?.on('data', (d) => {
      output += d;
    });
    const exited = new Promise<number | null>((r) => tend.once('exit', (code) => r(code)));
    try {
      await waitFor(() => output.includes('app UP'), { timeoutMs: 20_000, what: `app UP in ${output}` });
      writeFileSync(
        manifest,
        'services:\n  mine:\n    command: exec sleep 300\n  admin:\n    command: exec sleep 300\n    user: root\n',
      );
      const r = user.run([process.execPath, CLI, 'reload'], { cwd: dir });
      expect(r.status, `${r.stdout}${r.stderr}`).not.toBe(0);
      expect(`${r.stdout}${r.stderr}`).toContain('cannot run admin (user: root, uid 0:0) as another user');
      await waitFor(() => output.includes('reload refused'), { timeoutMs: 10_000 });
      expect(output).not.toMatch(/admin (starting|running)/);
      const st = user.run([process.execPath, CLI, 'status', '--json'], { cwd: dir });
      expect(JSON.parse(st.stdout).services.map((x: { name: string }) => x.name)).toEqual(['mine']);
    } finally {
      try {
        process.kill(-tend.pid!, 'SIGTERM');
      } catch {}
      await exited;
    }
  });
});
