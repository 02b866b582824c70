/**
 * Issue 17's "Done when": five `tend up` on this machine sharing one real etcd (each its own project, state folder
 * and TEND_FLEET_NAME), one service with `rollout: { max_parallel: 1 }` rendering a key.
 *
 * - a key change reaches all five, and never more than one service is restarting or not ready at once: read from
 *   the services' own stamps (each appends `stop`, `start` and `ready` with the time in ms to a file);
 * - a bad value (the service refuses to become ready with it) is applied on one tend only, which puts the
 *   previous file back and restarts on it; the four others never restart and keep their file;
 * - a newer good value then rolls out to all five.
 */
import { rmSync } from 'node:fs';
import { Etcd3 } from 'etcd3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTend, startTend, stopAllTends } from '../helpers/cli.js';
import { type EtcdHarness, startEtcd } from '../helpers/etcd.js';
import {
  conf,
  isDone,
  mostOutAtOnce,
  type RolloutView,
  rolloutOf,
  rolloutProject,
  sha,
  stamps,
  startFleet,
} from '../helpers/rollout.js';
import { waitFor } from '../helpers/wait.js';

let etcd: EtcdHarness;
let direct: Etcd3;
const dirs: string[] = [];

beforeAll(async () => {
  etcd = await startEtcd();
  direct = new Etcd3({ hosts: `http://${etcd.endpoint}` });
});
afterAll(async () => {
  await stopAllTends();
  direct?.close();
  await etcd?.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const project = (url: string, name: string) => rolloutProject(url, name, dirs);

describe('a rollout over five tends sharing one etcd', () => {
  it('rolls a change one tend at a time; a bad value halts on its canary; a newer good value rolls on', async () => {
    const ns = `rollout${Date.now()}/`;
    await direct.put(`${ns}app/msg`).value('v1');
    const url = `etcd://${etcd.endpoint}/${ns}`;
    const names = ['t1', 't2', 't3', 't4', 't5'];
    const projects = names.map((n) => project(url, n));
    const tends = await startFleet(projects, names, { TEND_FLEET: 'on' });
    const all = () => projects.map((d, i) => stamps(d, names[i] ?? ''));

    // 1. a good change reaches all five, one at a time
    const t1 = Date.now();
    await direct.put(`${ns}app/msg`).value('v2');
    const v2 = sha('msg=v2\n');
    await waitFor(() => projects.every((d) => isDone(rolloutOf(d), v2)), {
      what: 'v2 done on all five',
      timeoutMs: 90_000,
      intervalMs: 250,
    });
    for (const d of projects) expect(conf(d)).toBe('msg=v2\n');
    // each restarted once, and at most one was out at any time
    for (const list of all()) expect(list.filter((s) => s.at >= t1 && s.kind === 'start')).toHaveLength(1);
    expect(mostOutAtOnce(all(), t1)).toBe(1);
    expect(runTend(['status'], { cwd: projects[0] ?? '' }).stdout).toMatch(
      new RegExp(
        `^rollout web: done ${v2.slice('sha256:'.length, 'sha256:'.length + 12)} since \\d\\d:\\d\\d:\\d\\d$`,
        'm',
      ),
    );
    // one line each says so (the stdout line is written after the status changed: waited for, not raced)
    for (const t of tends)
      await t.waitForOutput(/web: rollout applied: web\.conf \(content [0-9a-f]{12}\) applied/);

    // 2. a bad value: one canary applies it, is not ready within 3 s, goes back; the others skip it
    const t2 = Date.now();
    await direct.put(`${ns}app/msg`).value('bad');
    const bad = sha('msg=bad\n');
    await waitFor(
      () => {
        const phases = projects.map((d) => rolloutOf(d));
        return (
          phases.every((p) => p?.hash === bad) &&
          phases.filter((p) => p?.phase === 'failed').length === 1 &&
          phases.filter((p) => p?.phase === 'skipped').length === 4
        );
      },
      { what: 'one failed, four skipped', timeoutMs: 90_000, intervalMs: 250 },
    );
    const canary = projects.findIndex((d) => rolloutOf(d)?.phase === 'failed');
    for (const [i, d] of projects.entries()) {
      const mine = stamps(d, names[i] ?? '').filter((s) => s.at >= t2);
      // every service runs on the good file again: the canary after its revert, the others all along
      expect(conf(d)).toBe('msg=v2\n');
      if (i === canary) {
        // the bad start, then the start on the previous file, which becomes ready
        await waitFor(
          () => {
            const since = stamps(d, '').filter((s) => s.at >= t2);
            return since.filter((s) => s.kind === 'start').length === 2 && since.at(-1)?.kind === 'ready';
          },
          { what: 'canary ready again on the previous file' },
        );
        expect(stamps(d, '').filter((s) => s.at >= t2 && s.kind === 'start')).toHaveLength(2);
        await tends[i]?.waitForOutput(
          /web: rollout failed: web\.conf \(content [0-9a-f]{12}\): web not ready within 3s; the previous config is back/,
        );
      } else {
        expect(mine).toEqual([]);
        await tends[i]?.waitForOutput(
          new RegExp(
            `web: rollout skipped: web\\.conf \\(content [0-9a-f]{12}\\) failed on ${names[canary]}`,
          ),
        );
      }
    }
    // the store says which content failed, and where
    const mark = await direct.get(`${ns}rollout/shop/web/failed/${bad.slice('sha256:'.length)}`).string();
    expect(JSON.parse(mark ?? '{}')).toMatchObject({ hash: bad, host: names[canary] });
    // the fleet document tells the same
    const fleet = JSON.parse(runTend(['fleet', '--json'], { cwd: projects[0] ?? '' }).stdout) as {
      entries: Array<{ host: string; rollouts?: RolloutView[] }>;
    };
    expect(fleet.entries.find((e) => e.host === names[canary])?.rollouts?.[0]).toMatchObject({
      service: 'web',
      phase: 'failed',
      hash: bad,
    });

    // 3. a newer good value rolls out to all five
    const t3 = Date.now();
    await direct.put(`${ns}app/msg`).value('v3');
    const v3 = sha('msg=v3\n');
    await waitFor(() => projects.every((d) => isDone(rolloutOf(d), v3)), {
      what: 'v3 done on all five',
      timeoutMs: 90_000,
      intervalMs: 250,
    });
    for (const d of projects) expect(conf(d)).toBe('msg=v3\n');
    expect(mostOutAtOnce(all(), t3)).toBe(1);
    for (const list of all()) expect(list.filter((s) => s.at >= t3 && s.kind === 'start')).toHaveLength(1);
    // no slot is left behind once the rollout is over
    expect((await direct.getAll().prefix(`${ns}rollout/shop/web/slots/`).keys()).length).toBe(0);
  }, 240_000);

  it('a service stopped by an operator while its change waits to be ready: nothing is marked failed', async () => {
    const ns = `rolloutstop${Date.now()}/`;
    await direct.put(`${ns}app/msg`).value('v1');
    const dir = project(`etcd://${etcd.endpoint}/${ns}`, 's1');
    const t = startTend(['up'], { cwd: dir, env: { TEND_FLEET_NAME: 's1', TEND_FLEET_TTL_MS: '2000' } });
    await t.waitForOutput(/app UP/, 60_000);
    // a value it will not become ready with, then the operator stops it before ready_timeout (3 s) is up
    await direct.put(`${ns}app/msg`).value('bad');
    await waitFor(() => rolloutOf(dir)?.phase === 'applying', { what: 'applying', intervalMs: 100 });
    const stopped = Date.now();
    expect(runTend(['stop', 'web'], { cwd: dir }).code).toBe(0);
    await waitFor(() => rolloutOf(dir) === undefined, { what: 'the rollout given up', timeoutMs: 15_000 });
    // past the ready_timeout: still no mark, no revert, and the slot is back
    await waitFor(() => Date.now() > stopped + 4000, { what: 'past ready_timeout', timeoutMs: 10_000 });
    expect((await direct.getAll().prefix(`${ns}rollout/shop/web/failed/`).keys()).length).toBe(0);
    expect((await direct.getAll().prefix(`${ns}rollout/shop/web/slots/`).keys()).length).toBe(0);
    expect(conf(dir)).toBe('msg=bad\n');
    expect(t.output()).not.toMatch(/rollout failed/);
  }, 120_000);
});
