/**
 * The commands a newcomer types in the first hour (issue 15), each against a real `tend up`: the next step
 * printed once up, ps/ls, --all, did-you-mean, cfg get --raw, logs --since and from the files, tend down, a
 * second Ctrl-C, bare ports.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI, runTend, startTend, stopAllTends } from '../helpers/cli.js';
import { alive } from '../helpers/wait.js';

const dirs: string[] = [];
afterEach(async () => {
  await stopAllTends();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function project(manifest: string) {
  const dir = mkdtempSync(join(tmpdir(), 'tend-first-hour-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'tend.yaml'), manifest);
  return dir;
}

const TWO = `
settings:
  defaults:
    db: { host: db.internal, port: 5432 }
services:
  web:
    command: echo web says hi; exec sleep 60
  worker:
    command: echo worker says hi; exec sleep 60
`;

describe('the first hour', () => {
  it('prints the next step once up; ps, ls, status -q; restart/stop/start --all; did-you-mean; cfg get --raw', async () => {
    const dir = project(`http: "0"\n${TWO}`);
    const t = startTend(['up'], { cwd: dir });
    // "0" (what http: \${PORT} gives) binds loopback, as the number does, and the URL printed is the one bound
    const url = (
      await t.waitForOutput(/dashboard, API and metrics on (http:\/\/127\.0\.0\.1:\d+\/\?token=\S+)\n/)
    )[1];
    expect(url).not.toMatch(/:0\//);
    const next = await t.waitForOutput(
      /tend +\| up · dashboard (\S+) · `(tend|node \S+) status` in another terminal/,
    );
    expect(next[1]).toBe(url);
    // the command printed works when pasted: \`tend\` only when it is on PATH, else the way tend was started
    const how = next[2] === 'tend' ? ['tend'] : next[2].split(' ');
    const pasted = spawnSync(how[0], [...how.slice(1), 'status', '-q'], { cwd: dir, encoding: 'utf8' });
    expect(pasted.stdout).toMatch(/worker/);

    for (const cmd of ['ps', 'ls']) {
      const r = runTend([cmd], { cwd: dir });
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/web/);
      expect(r.stdout).toMatch(/worker/);
    }
    expect(runTend(['status', '-q'], { cwd: dir }).stdout.trim().split('\n').sort()).toEqual([
      'web',
      'worker',
    ]);

    const pidsBefore = JSON.parse(runTend(['status', '--json'], { cwd: dir }).stdout).services.map(
      (s: { pid: number }) => s.pid,
    );
    const restart = runTend(['restart', '--all'], { cwd: dir });
    expect(restart.code).toBe(0);
    expect(restart.stdout).toMatch(/web: restarted, pid \d+ → \d+/);
    expect(restart.stdout).toMatch(/worker: restarted, pid \d+ → \d+/);
    for (const pid of pidsBefore) expect(alive(pid)).toBe(false);

    const stop = runTend(['stop', '--all'], { cwd: dir });
    expect(stop.code).toBe(0);
    // stopped in the reverse of the start order
    expect(stop.stdout).toMatch(/^worker: stopped\nweb: stopped\n$/);
    expect(runTend(['start', '-a'], { cwd: dir }).code).toBe(0);
    expect(runTend(['restart'], { cwd: dir }).code).toBe(2);
    expect(runTend(['restart', 'web', '--all'], { cwd: dir }).code).toBe(2);

    const typo = runTend(['restart', 'wrker'], { cwd: dir });
    expect(typo.code).toBe(2);
    expect(typo.stderr).toMatch(/did you mean worker\?/);

    // bash completion completes the running tend's services
    mkdirSync(join(dir, 'bin'));
    writeFileSync(join(dir, 'bin', 'tend'), `#!/bin/sh\nexec "${process.execPath}" "${CLI}" "$@"\n`, {
      mode: 0o755,
    });
    const completed = spawnSync(
      'bash',
      [
        '-c',
        // biome-ignore lint/suspicious/noTemplateCurlyInString: a bash expansion, not a template
        'source <(tend completion bash); COMP_WORDS=(tend restart w); COMP_CWORD=2; _tend; echo "${COMPREPLY[@]}"',
      ],
      {
        cwd: dir,
        encoding: 'utf8',
        env: { ...process.env, PATH: `${join(dir, 'bin')}:${process.env.PATH}` },
      },
    );
    expect(completed.stdout.trim().split(' ').sort()).toEqual(['web', 'worker']);

    const raw = runTend(['cfg', 'get', 'db.host', '--raw'], { cwd: dir });
    expect(raw.stdout).toBe('db.internal\n');
    expect(runTend(['cfg', 'get', 'db', '--raw'], { cwd: dir }).stdout).toBe(
      '{"host":"db.internal","port":5432}\n',
    );
    expect(runTend(['cfg', 'get', 'db.host'], { cwd: dir }).stdout).toBe('"db.internal"\n');
  });

  it('unknown commands: a close one is suggested, a different word is not', () => {
    const dir = project(TWO);
    const stauts = runTend(['stauts'], { cwd: dir });
    expect(stauts.code).toBe(2);
    expect(stauts.stderr).toMatch(/did you mean `tend status`\?/);
    const top = runTend(['top'], { cwd: dir });
    expect(top.code).toBe(2);
    expect(top.stderr).toMatch(/unknown command "top"/);
    expect(top.stderr).not.toMatch(/did you mean/);
  });

  it('completion scripts for bash, zsh and fish name the commands', () => {
    const dir = project(TWO);
    for (const shell of ['bash', 'zsh', 'fish']) {
      const r = runTend(['completion', shell], { cwd: dir });
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/restart/);
      expect(r.stdout).toMatch(/tend status -q/);
    }
    expect(runTend(['completion', 'tcsh'], { cwd: dir }).code).toBe(2);
  });

  it('tend down stops it from another terminal and waits; logs --since; logs from the files afterwards', async () => {
    const dir = project(TWO);
    const t = startTend(['up'], { cwd: dir });
    await t.waitForOutput(/tend +\| up · `(?:tend|node \S+) status` in another terminal/);
    const since = runTend(['logs', '--since', '10m'], { cwd: dir });
    expect(since.stdout).toMatch(/web says hi/);
    const future = runTend(['logs', '--since', new Date(Date.now() + 3_600_000).toISOString()], { cwd: dir });
    expect(future.code).toBe(0);
    expect(future.stdout).toBe('');
    expect(runTend(['logs', '--since', 'yesterday-ish'], { cwd: dir }).code).toBe(2);

    const down = runTend(['down'], { cwd: dir });
    expect(down.code).toBe(0);
    expect(down.stdout).toMatch(/stopped/);
    // down returned once tend had exited
    expect(t.proc.exitCode ?? (await t.exit(2000))).toBe(0);
    expect(t.output()).toMatch(/tend down/);

    const offline = runTend(['logs', 'worker'], { cwd: dir });
    expect(offline.code).toBe(0);
    expect(offline.stdout).toMatch(/worker says hi/);
    expect(offline.stderr).toMatch(/no tend is running/);
    // nothing to stop is what down wants
    expect(runTend(['down'], { cwd: dir }).code).toBe(0);
  });

  it('a second Ctrl-C forces the stop; the first says so', async () => {
    const dir = project(`
services:
  stubborn:
    command: trap '' TERM INT; echo started; while true; do sleep 0.2; done
    stop: { timeout: 60s }
`);
    const t = startTend(['up'], { cwd: dir });
    await t.waitForOutput(/stubborn \| started/);
    t.kill('SIGINT');
    await t.waitForOutput(
      /stopping; services that do not stop get SIGKILL within 1m — Ctrl-C again to force/,
    );
    t.kill('SIGINT');
    await t.waitForOutput(/forcing the stop: SIGKILL to stubborn/);
    // well before the 60s stop timeout
    expect(await t.exit(20_000)).toBe(0);
  });

  it('--http with a bare port binds loopback, like http: 7070', async () => {
    const dir = project(TWO);
    const t = startTend(['up', '--http', '0'], { cwd: dir });
    const line = await t.waitForOutput(
      /dashboard, API and metrics on (\S+)( \(bound to every interface\))?\n/,
    );
    expect(line[1]).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=\S+$/);
    expect(line[2]).toBeUndefined();
  });
});
