/** `tend reload`: the plan diff (pure) and applying it to a real running tend. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ReloadResult, StatusView } from '../../src/control/types.js';
import { deepEqual, planDiff } from '../../src/supervisor/reload.js';
import { runTend, startTend, stopAllTends } from '../helpers/cli.js';
import { servicePlan, stackPlan } from '../helpers/plan.js';
import { alive, waitFor } from '../helpers/wait.js';

describe('planDiff', () => {
  const a = servicePlan('a', 'exec sleep 1');
  const b = servicePlan('b', 'exec sleep 1', { after: ['a'] });
  const c = servicePlan('c', 'exec sleep 1');

  it('sorts services into added, removed, changed and unchanged', () => {
    const old = stackPlan('/x', [a, b, c]);
    const next = stackPlan('/x', [
      a,
      servicePlan('b', 'exec sleep 2', { after: ['a'] }),
      servicePlan('d', 'exec sleep 1'),
    ]);
    expect(planDiff(old, next)).toEqual({
      added: ['d'],
      removed: ['c'],
      changed: ['b'],
      unchanged: ['a'],
      ignored: [],
    });
  });

  it('compares whole definitions, deeply: env, restart policy, logs', () => {
    const old = stackPlan('/x', [a]);
    for (const changed of [
      servicePlan('a', 'exec sleep 1', { env: { X: '1' } }),
      servicePlan('a', 'exec sleep 1', { restart: { maxFailures: 9 } }),
      servicePlan('a', 'exec sleep 1', { logs: { stdout: true } }),
      servicePlan('a', { kind: 'argv', argv: ['sleep', '1'] }),
    ]) {
      expect(planDiff(old, stackPlan('/x', [changed])).changed).toEqual(['a']);
    }
    // a copy is equal; an optional field left undefined equals an absent one
    const copy = JSON.parse(JSON.stringify(a));
    expect(planDiff(old, stackPlan('/x', [{ ...copy, user: undefined }])).unchanged).toEqual(['a']);
  });

  it('names top-level changes a reload does not apply', () => {
    const old = stackPlan('/x', [a]);
    const next = stackPlan('/x', [a], { name: 'other', http: '127.0.0.1:1' });
    expect(planDiff(old, next).ignored).toEqual(['http', 'name']);
  });

  it('deepEqual handles arrays, nesting and NaN', () => {
    expect(deepEqual({ x: [1, { y: 2 }] }, { x: [1, { y: 2 }] })).toBe(true);
    expect(deepEqual({ x: [1, 2] }, { x: [2, 1] })).toBe(false);
    expect(deepEqual([], {})).toBe(false);
    expect(deepEqual(Number.NaN, Number.NaN)).toBe(true);
    expect(deepEqual({ a: 1 }, { a: 1, b: 2 })).toBe(false);
  });
});

describe('tend reload against a running tend', () => {
  const dirs: string[] = [];
  afterEach(async () => {
    await stopAllTends();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  const manifest = (services: Record<string, string>) =>
    `services:\n${Object.entries(services)
      .map(([name, cmd]) => `  ${name}:\n    command: ${cmd}\n`)
      .join('')}`;

  it('starts added services, stops removed ones, restarts changed ones and leaves the rest', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tend-reload-'));
    dirs.push(dir);
    const file = join(dir, 'tend.yaml');
    writeFileSync(
      file,
      manifest({ keep: 'exec sleep 600', change: 'exec sleep 600', drop: 'exec sleep 600' }),
    );
    startTend(['up'], { cwd: dir });
    const status = () => JSON.parse(runTend(['status', '--json'], { cwd: dir }).stdout) as StatusView;
    const pids = () => Object.fromEntries(status().services.map((s) => [s.name, s.pid]));
    await waitFor(
      () => {
        const r = runTend(['status', '--json'], { cwd: dir });
        return r.code === 0 && (JSON.parse(r.stdout) as StatusView).services.every((s) => s.pid);
      },
      { what: 'all running', timeoutMs: 20_000 },
    );
    const before = pids();

    writeFileSync(
      file,
      manifest({ keep: 'exec sleep 600', change: 'exec sleep 601', add: 'exec sleep 600' }),
    );
    const r = runTend(['reload', '--json'], { cwd: dir });
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout) as ReloadResult;
    expect(result).toMatchObject({
      added: ['add'],
      removed: ['drop'],
      changed: ['change'],
      unchanged: ['keep'],
    });

    await waitFor(() => status().services.every((s) => s.state === 'running'), { what: 'settled' });
    const after = pids();
    expect(Object.keys(after).sort()).toEqual(['add', 'change', 'keep']);
    expect(after.keep).toBe(before.keep);
    expect(after.change).not.toBe(before.change);
    expect(alive(before.change!)).toBe(false);
    expect(alive(before.drop!)).toBe(false);
    expect(alive(after.add!)).toBe(true);
    expect(readFileSync(`/proc/${after.change}/cmdline`, 'utf8')).toContain('601');

    // human output says the same
    writeFileSync(file, manifest({ keep: 'exec sleep 600', change: 'exec sleep 601' }));
    const human = runTend(['reload'], { cwd: dir });
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/reloaded \.\/tend\.yaml: stopped add \(unchanged: keep, change\)/);
  });

  it('SIGHUP restarts the app and applies the edited manifest while the services are down', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tend-reload-'));
    dirs.push(dir);
    const file = join(dir, 'tend.yaml');
    writeFileSync(file, manifest({ keep: 'exec sleep 600', drop: 'exec sleep 600' }));
    const t = startTend(['up'], { cwd: dir });
    await t.waitForOutput(/app UP/, 20_000);
    writeFileSync(file, manifest({ keep: 'exec sleep 600', add: 'exec sleep 600' }));
    t.kill('SIGHUP');
    await t.waitForOutput(/reloaded .*tend\.yaml: started add; stopped drop/);
    await waitFor(
      () => {
        const st = JSON.parse(runTend(['status', '--json'], { cwd: dir }).stdout) as StatusView;
        return (
          st.app.state === 'UP' &&
          st.services.map((s) => `${s.name}:${s.state}`).join() === 'keep:running,add:running'
        );
      },
      { what: 'keep and add running after SIGHUP' },
    );
  });

  it('an invalid edit changes nothing and says why (exit 2)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tend-reload-'));
    dirs.push(dir);
    const file = join(dir, 'tend.yaml');
    writeFileSync(file, manifest({ one: 'exec sleep 600', two: 'exec sleep 600' }));
    startTend(['up'], { cwd: dir });
    const pids = () =>
      Object.fromEntries(
        (JSON.parse(runTend(['status', '--json'], { cwd: dir }).stdout) as StatusView).services.map((s) => [
          s.name,
          s.pid,
        ]),
      );
    await waitFor(
      () => {
        const r = runTend(['status', '--json'], { cwd: dir });
        return r.code === 0 && (JSON.parse(r.stdout) as StatusView).services.every((s) => s.pid);
      },
      { what: 'all running', timeoutMs: 20_000 },
    );
    const before = pids();
    writeFileSync(
      file,
      `services:\n  one:\n    command: exec sleep 600\n    restrat: always\n  three:\n    command: [\n`,
    );
    const r = runTend(['reload'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/tend\.yaml is invalid; nothing was changed/);
    expect(r.stderr).toMatch(/tend\.yaml:\d+:\d+: /);
    expect(pids()).toEqual(before);
  });
});
