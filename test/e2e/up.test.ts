import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runTend, startTend, stopAllTends } from '../helpers/cli.js';
import { alive, waitFor } from '../helpers/wait.js';

const dirs: string[] = [];
afterEach(async () => {
  await stopAllTends();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function project(manifest: string) {
  const dir = mkdtempSync(join(tmpdir(), 'tend-e2e-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'tend.yaml'), manifest);
  return dir;
}

describe('tend up', () => {
  it('SIGTERM stops every service in reverse order and exits 0', async () => {
    const dir = project(`
services:
  db:
    command: exec sleep 60
  api:
    command: exec sleep 60
    after: [db]
  web:
    command: exec sleep 60
    after: [api]
`);
    const t = startTend(['up'], { cwd: dir });
    const pids = await Promise.all(
      ['db', 'api', 'web'].map(async (s) =>
        Number((await t.waitForOutput(new RegExp(`${s} running \\(pid (\\d+)\\)`)))[1]),
      ),
    );
    t.kill('SIGTERM');
    expect(await t.exit()).toBe(0);
    const out = t.output();
    const order = [...out.matchAll(/tend +\| (\w+) stopped/g)].map((m) => m[1]);
    expect(order).toEqual(['web', 'api', 'db']);
    for (const pid of pids) expect(alive(pid)).toBe(false);
  });

  it('exits with the code of an essential service', async () => {
    const dir = project(`
services:
  main:
    command: sleep 0.5; exit 7
    essential: true
    restart: never
  sidecar:
    command: exec sleep 60
`);
    const t = startTend(['up'], { cwd: dir });
    const sidecar = Number((await t.waitForOutput(/sidecar running \(pid (\d+)\)/))[1]);
    expect(await t.exit()).toBe(7);
    expect(alive(sidecar)).toBe(false);
    expect(t.output()).toMatch(/essential service main ended/);
  });

  for (const [how, notify, exitLine] of [
    ['tend | lines', '', /^tend +\| broken exited: exit code 3/m],
    // the sink prints in tend's console format: adding it changes nothing on the console
    ['the stdout notify sink', 'notify: [stdout]', /^tend +\| broken exited: exit code 3/m],
  ] as const) {
    it(`prints a service's last words before tend's line about its exit (${how})`, async () => {
      const dir = project(`
${notify}
services:
  broken:
    command: echo "config file missing" >&2; exit 3
    restart: never
`);
      const t = startTend(['up'], { cwd: dir });
      await t.waitForOutput(exitLine);
      const lines = t.output().split('\n');
      const said = lines.findIndex((l) => /^broken +\| config file missing$/.test(l));
      const exited = lines.findIndex((l) => exitLine.test(l));
      expect(said).toBeGreaterThanOrEqual(0);
      expect(said).toBeLessThan(exited);
      t.kill();
      expect(await t.exit()).toBe(0);
    });
  }

  it('--only and TEND_ONLY choose the services', async () => {
    const dir = project(`
services:
  a: { command: exec sleep 60 }
  b: { command: exec sleep 60 }
  c: { command: exec sleep 60 }
`);
    const t = startTend(['up', '--only', 'a,c'], { cwd: dir });
    await t.waitForOutput(/c running/);
    await t.waitForOutput(/a running/);
    expect(t.output()).not.toMatch(/\bb running/);
    t.kill();
    expect(await t.exit()).toBe(0);
    const check = runTend(['check'], { cwd: dir, env: { TEND_ONLY: 'b' } });
    expect(check.code).toBe(0);
    expect(check.stdout).toMatch(/\bb\b/);
  });

  it('keeps supervising when whoever read its stdout and stderr goes away (tend up | head)', async () => {
    const dir = project(`
services:
  chatty:
    command: while :; do echo tick; echo tock >&2; sleep 0.05; done
    logs: { file: ./chatty.log }
`);
    const t = startTend(['up'], { cwd: dir });
    const pid = Number((await t.waitForOutput(/chatty running \(pid (\d+)\)/))[1]);
    await t.waitForOutput(/app UP/);
    // the reader closes both pipes: every later write of tend's to them fails with EPIPE
    t.proc.stdout?.destroy();
    t.proc.stderr?.destroy();
    const lines = () =>
      existsSync(join(dir, 'chatty.log'))
        ? readFileSync(join(dir, 'chatty.log'), 'utf8').split('\n').length
        : 0;
    await waitFor(() => lines() > 0, { what: 'the log file' });
    const before = lines();
    await waitFor(() => lines() > before + 20, { what: 'chatty to keep logging', timeoutMs: 10_000 });
    expect(t.proc.exitCode).toBeNull();
    expect(alive(pid)).toBe(true);
    const status = runTend(['status', '--json'], { cwd: dir });
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout).services[0]).toMatchObject({ name: 'chatty', pid });
    t.kill('SIGTERM');
    expect(await t.exit()).toBe(0);
    expect(alive(pid)).toBe(false);
    expect(existsSync(join(dir, '.tend', 'tend.sock'))).toBe(false);
  });

  it('refuses an invalid manifest with file:line:column and exit 2, starting nothing', async () => {
    const dir = project(`
services:
  web:
    command: exec sleep 60
    restat: always
`);
    const r = runTend(['up'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/tend\.yaml:5:5: .*restat.*did you mean "restart"/);
  });

  it('an unknown flag is a usage error (exit 2)', () => {
    const dir = project('services: { a: { command: "true" } }\n');
    expect(runTend(['up', '--bogus'], { cwd: dir }).code).toBe(2);
  });
});

describe('tend run', () => {
  it('restarts a failing command and ends with its code under --restart never', async () => {
    const dir = project('');
    // tend run keeps its state under $XDG_RUNTIME_DIR (else the temp folder): here, inside the test's folder
    const r = runTend(['run', '--restart', 'never', '--', 'sh', '-c', 'echo hi; exit 5'], {
      cwd: dir,
      env: { XDG_RUNTIME_DIR: dir },
    });
    expect(r.code).toBe(5);
    expect(r.stdout).toMatch(/hi/);
  });

  it('keeps a crashing command alive with --restart always', async () => {
    const dir = project('');
    const marker = join(dir, 'count');
    const t = startTend(
      ['run', '--name', 'flaky', '--', 'sh', '-c', `echo x >> ${marker}; sleep 0.2; exit 1`],
      { cwd: dir, env: { XDG_RUNTIME_DIR: dir } },
    );
    // one console line per crash and the restart it brings
    await waitFor(() => (t.output().match(/flaky exited 1 · restart \d+/g) ?? []).length >= 2, {
      timeoutMs: 15_000,
    });
    t.kill('SIGINT');
    expect(await t.exit()).toBe(0);
  });
});
