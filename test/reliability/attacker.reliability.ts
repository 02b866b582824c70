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

  it('a log file another user made first in a shared folder is not written to', async () => {
    const evil = attacker();
    const shared = sharedFolder();
    const planted = join(shared, 'web.log');
    expect(evil.run(['sh', '-c', `umask 0; : > ${planted}`]).status).toBe(0);
    const project = mkdtempSync(join(tmpdir(), 'tend-attack-'));
    dirs.push(project);
    writeFileSync(
      join(project, 'tend.yaml'),
      `state_dir: ${join(project, 'state')}\nservices:\n  web:\n    command: 'echo secret-output; sleep 60'\n    logs: { file: ${planted} }\n`,
    );
    const tend = startTend(['up'], { cwd: project });
    await tend.waitForOutput(/app UP/, 15_000);
    await tend.waitForOutput(/secret-output/);
    await tend.waitForOutput(/belongs to uid \d+, not to tend's user/);
    tend.kill('SIGTERM');
    await tend.exit(15_000);
    expect(readFileSync(planted, 'utf8')).toBe('');
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

// ---- the control plane and secrets (issue 13: token over TCP, stream bounds, secrets out of errors, modes) ----

const curl = (u: TestUser, args: string[]) =>
  u.run(['curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '3', ...args]).stdout.trim();

function projectWith(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'tend-attack-'));
  dirs.push(dir);
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(join(dir, rel, '..'), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
  return dir;
}

describe.skipIf(!canMakeUsers)('another local user against the control plane of tend run as root', () => {
  it('on the loopback TCP port gets 401 for status, cfg, logs, events and stop; the probes still answer', async () => {
    const evil = attacker();
    const dir = projectWith({
      'tend.yaml':
        'http: 127.0.0.1:0\nsettings:\n  defaults: { db: { password: hunter2-root } }\nservices:\n  web:\n    command: exec sleep 600\n',
    });
    const tend = startTend(['up'], { cwd: dir });
    const [, base, token] = await tend.waitForOutput(/metrics on (http:\/\/\S+\/)\?token=([\w-]+)/, 20_000);
    await tend.waitForOutput(/app UP/, 20_000);
    for (const path of ['api/status', 'api/services/web', 'api/cfg', 'api/logs?service=web', 'api/events']) {
      expect(curl(evil, [`${base}${path}`]), path).toBe('401');
    }
    expect(curl(evil, ['-X', 'POST', `${base}api/services/web/stop`])).toBe('401');
    expect(curl(evil, ['-X', 'POST', `${base}api/maintenance?on=true`])).toBe('401');
    expect(curl(evil, [`${base}healthz`])).toBe('200');
    expect(curl(evil, [`${base}metrics`])).toBe('200');
    // the token tend made is in its 0700 state folder, out of the other user's reach
    const stateToken = join(dir, '.tend', 'token');
    expect(readFileSync(stateToken, 'utf8').trim()).toBe(token);
    expect(statSync(stateToken).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, '.tend')).mode & 0o777).toBe(0o700);
    expect(evil.run(['cat', stateToken]).status).not.toBe(0);
    // the service was not stopped; the owner's CLI (socket) and the token still work
    const st = JSON.parse(runTend(['status', '--json'], { cwd: dir }).stdout);
    expect(st.services[0].state).toBe('running');
    expect(curl(evil, ['-H', `Authorization: Bearer ${token}`, `${base}api/status`])).toBe('200');
  });

  it('a KV secret that breaks a template or a check reaches no API answer, event, webhook, notify file or stdout', async () => {
    const SECRET = 'S3cr3t-Hunter2-xyzzy';
    const { createServer } = await import('node:http');
    const bodies: string[] = [];
    const hook = createServer((req, res) => {
      let b = '';
      req.on('data', (c) => {
        b += c;
      });
      req.on('end', () => {
        bodies.push(b);
        res.end('ok');
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', () => r()));
    const hookPort = (hook.address() as { port: number }).port;
    try {
      const dir = projectWith({
        'kv/db/password': SECRET,
        'kv/db/port': SECRET,
        'port.tmpl': 'port={{ key "db/port" | parseInt }}\n',
        'pw.tmpl': 'password={{ key "db/password" }}\n',
        'tend.yaml': `http: 127.0.0.1:0
notify:
  - webhook: http://127.0.0.1:${hookPort}/hook
  - file: events/tend.jsonl
services:
  web:
    command: exec sleep 600
    logs: { stdout: false }
    templates:
      - { source: port.tmpl, destination: etc/port.conf, missing: fail }
      - source: pw.tmpl
        destination: etc/pw.conf
        check: 'cat "$TEND_CHECK_FILE"; exit 1'
`,
      });
      const tend = startTend(['up'], { cwd: dir });
      const [, base, token] = await tend.waitForOutput(/metrics on (http:\/\/\S+\/)\?token=([\w-]+)/, 20_000);
      const auth = { authorization: `Bearer ${token}` };
      const get = async (path: string) => (await fetch(`${base}${path}`, { headers: auth })).text();
      // both templates failed, and say where
      await waitForAsync(async () => {
        const s = await get('api/services/web');
        return /parseInt/.test(s) && /check failed/.test(s);
      });
      const status = await get('api/status');
      const service = await get('api/services/web');
      expect(service).toMatch(/db\/port/);
      // the stream, from the start of the bus history
      const ac = new AbortController();
      const res = await fetch(`${base}api/events?since=0`, { headers: auth, signal: ac.signal });
      const reader = res.body!.getReader();
      let sse = '';
      while (!/check-failed/.test(sse) || !/parseInt/.test(sse)) {
        const { value, done } = await reader.read();
        if (done) break;
        sse += new TextDecoder().decode(value);
      }
      ac.abort();
      await waitForAsync(async () => bodies.some((b) => /check-failed/.test(b)));
      const notifyFile = join(dir, 'events/tend.jsonl');
      await waitForAsync(
        async () => existsSync(notifyFile) && /check-failed/.test(readFileSync(notifyFile, 'utf8')),
      );
      // the check's output is in the service's log as `tend logs web` shows it (tend's own lines, not the
      // service's file, which holds the service's bytes only), for whoever may read the logs
      await waitForAsync(async () => (await get('api/logs?service=web&n=200')).includes(SECRET));
      tend.kill('SIGTERM');
      await tend.exit(15_000);
      for (const [what, text] of [
        ['/api/status', status],
        ['/api/services/web', service],
        ['SSE', sse],
        ['webhook', bodies.join('\n')],
        ['notify file', readFileSync(notifyFile, 'utf8')],
        ['stdout', tend.output()],
      ] as const) {
        expect(text, what).not.toContain(SECRET);
      }
      // the notify file is for tend's user only (log files' 0640: the logs.mode test below)
      expect(statSync(notifyFile).mode & 0o777).toBe(0o600);
    } finally {
      hook.close();
    }
  });

  it("the KV URL's password is redacted in tend check, text and --json", () => {
    const dir = projectWith({
      // the manifest's own ${PW}, expanded by tend
      'tend.yaml': `kv: etcd://admin:\${PW}@127.0.0.1:2379
notify:
  - webhook: https://hook:\${PW}@example.com/x?token=\${PW}
services:
  web:
    command: exec sleep 600
    logs: { mode: "0644" }
`,
    });
    const env = { PW: 'pa55-w0rd-zz' };
    const text = runTend(['check'], { cwd: dir, env });
    expect(text.code, text.stderr).toBe(0);
    const json = runTend(['check', '--json'], { cwd: dir, env });
    expect(json.code, json.stderr).toBe(0);
    for (const out of [text.stdout, json.stdout]) {
      expect(out).not.toContain('pa55-w0rd-zz');
      expect(out).toContain('etcd://admin:***@127.0.0.1:2379');
    }
    // the modes and the token rule are explained
    expect(text.stdout).toMatch(/mode 0644/);
    expect(JSON.parse(json.stdout).services.web.logs.mode).toBe(0o644);
  });

  it('logs.mode widens the mode of a log file tend creates', async () => {
    const dir = projectWith({
      'tend.yaml': 'services:\n  web:\n    command: echo hello; exec sleep 600\n    logs: { mode: "0644" }\n',
    });
    const tend = startTend(['up'], { cwd: dir });
    await tend.waitForOutput(/hello/, 20_000);
    const log = join(dir, '.tend/logs/web.log');
    await waitForAsync(async () => existsSync(log));
    expect(statSync(log).mode & 0o777).toBe(0o644);
  });
});

async function waitForAsync(ok: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}
