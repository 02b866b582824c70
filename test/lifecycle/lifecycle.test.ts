import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ServiceEvent, StatsEvent } from '../../src/events/index.js';
import type { Plan, StagePlan } from '../../src/manifest/types.js';
import { isAlive as alive } from '../../src/procs/index.js';
import { servicePlan, sh, stackPlan } from '../helpers/plan.js';
import { waitFor } from '../helpers/wait.js';
import { cleanup, script, tmp, up } from './harness.js';

afterEach(cleanup);

const stage = (script: string, timeoutMs = 10_000): StagePlan => ({ command: sh(script), timeoutMs });

/** An app whose stages record what they saw into `<dir>/seen/<stage>`. */
function whalewareLike(dir: string, o: Partial<Plan> = {}): Plan {
  const record = (name: string) =>
    script(
      dir,
      `bin/${name}`,
      `mkdir -p seen; echo "$TEND_STAGE $TEND_APP $TEND_DATA_DIR $TEND_SETTINGS_FILE" > seen/${name}\necho "${name} says hi"`,
    );
  for (const s of ['boot', 'firstboot', 'upgrade']) record(s);
  // warmup proves the services run before it: the web service writes its pid first.
  script(
    dir,
    'bin/warmup',
    'for i in $(seq 100); do test -s run/web.pid && break; sleep 0.05; done\ntest -s run/web.pid || { echo "web is not running" >&2; exit 1; }\necho warm',
  );
  script(dir, 'bin/web', 'mkdir -p run; echo $$ > run/web.pid; exec sleep 1000');
  return stackPlan(dir, [servicePlan('web', `exec ${dir}/bin/web`, { cwd: dir })], {
    file: join(dir, 'tend.yaml'),
    stages: {
      boot: stage('./bin/boot'),
      firstboot: stage('./bin/firstboot'),
      upgrade: stage('./bin/upgrade'),
      warmup: stage('./bin/warmup'),
    },
    ...o,
  });
}

describe('app lifecycle', () => {
  it('runs boot, firstboot, upgrade, services, warmup, then UP; a second start skips firstboot', async () => {
    const dir = tmp();
    const plan = whalewareLike(dir);
    const first = await up(plan);
    await waitFor(() => first.rt.appState() === 'UP', { what: 'UP' });
    expect(first.appStates()).toEqual(['BOOT', 'FIRSTBOOT', 'UPGRADING', 'WARMUP', 'UP']);
    expect(existsSync(join(plan.dataDir, '.tend-firstboot'))).toBe(true);
    const settingsFile = join(plan.stateDir, 'settings.json');
    expect(readFileSync(join(dir, 'seen/boot'), 'utf8').trim()).toBe(
      `boot test ${plan.dataDir} ${settingsFile}`,
    );
    expect(readFileSync(join(dir, 'seen/upgrade'), 'utf8')).toMatch(/^upgrade /);
    expect(first.output()).toMatch(/^boot +\| boot says hi$/m);
    expect(first.output()).toMatch(/^warmup +\| warm$/m);

    expect(await first.rt.shutdown(0, 'test')).toBe(0);
    expect(first.appStates().slice(-2)).toEqual(['STOPPING', 'STOPPED']);

    const second = await up(plan);
    await waitFor(() => second.rt.appState() === 'UP', { what: 'UP again' });
    expect(second.appStates()).toEqual(['BOOT', 'UPGRADING', 'WARMUP', 'UP']);
  });

  it('a failed firstboot is ERROR with its output, exit 4, no marker, and runs again next time', async () => {
    const dir = tmp();
    const plan = whalewareLike(dir);
    script(dir, 'bin/firstboot', 'echo "creating database"; echo "disk full" >&2; exit 3');
    const s = await up(plan);
    expect(await s.rt.done).toBe(4);
    expect(s.appStates()).toEqual(['BOOT', 'FIRSTBOOT', 'ERROR']);
    const error = s.appEvents().at(-1);
    expect(error?.reason).toBe('firstboot failed: exit code 3');
    expect(error?.output).toContain('creating database');
    expect(error?.output).toContain('disk full');
    expect(existsSync(join(plan.dataDir, '.tend-firstboot'))).toBe(false);
    expect(s.events.some((e) => e.kind === 'service' && e.to === 'running')).toBe(false);

    script(dir, 'bin/firstboot', 'echo fixed');
    const again = await up(plan);
    await waitFor(() => again.rt.appState() === 'UP', { what: 'UP' });
    expect(again.appStates()).toContain('FIRSTBOOT');
  });

  it('a failed warmup stops the services that started and exits 4', async () => {
    const dir = tmp();
    const plan = whalewareLike(dir);
    script(dir, 'bin/warmup', 'echo "cache cold"; exit 1');
    const s = await up(plan);
    expect(await s.rt.done).toBe(4);
    expect(s.appStates()).toEqual(['BOOT', 'FIRSTBOOT', 'UPGRADING', 'WARMUP', 'ERROR']);
    expect(s.appEvents().at(-1)).toMatchObject({
      reason: 'warmup failed: exit code 1',
      output: 'cache cold',
    });
    const pid = s.events.find((e): e is ServiceEvent => e.kind === 'service' && e.to === 'running')
      ?.pid as number;
    expect(pid).toBeGreaterThan(0);
    expect(alive(pid)).toBe(false);
    expect(s.rt.stack.status()[0].state).toBe('stopped');
  });

  it('kills a stage and everything it started at its timeout', async () => {
    const dir = tmp();
    script(dir, 'bin/boot', 'sleep 1000 & echo $! > boot-child.pid; echo waiting; wait');
    const plan = stackPlan(dir, [], {
      file: join(dir, 'tend.yaml'),
      stages: { boot: stage('./bin/boot', 500) },
    });
    const s = await up(plan);
    expect(await s.rt.done).toBe(4);
    expect(s.appEvents().at(-1)?.reason).toBe('boot failed: did not finish within 500ms; killed');
    expect(s.appEvents().at(-1)?.output).toContain('waiting');
    const child = Number(readFileSync(join(dir, 'boot-child.pid'), 'utf8'));
    await waitFor(() => !alive(child), { what: 'the stage child gone' });
  });

  it('SIGTERM during a stage interrupts it: STOPPING, STOPPED, exit 0', async () => {
    const dir = tmp();
    script(dir, 'bin/boot', 'echo $$ > boot.pid; exec sleep 1000');
    const plan = stackPlan(dir, [servicePlan('web', 'exec sleep 1000')], {
      file: join(dir, 'tend.yaml'),
      stages: { boot: stage('./bin/boot') },
    });
    const s = await up(plan);
    await waitFor(() => existsSync(join(dir, 'boot.pid')), { what: 'boot running' });
    const code = await s.rt.shutdown(0, 'received SIGTERM');
    expect(code).toBe(0);
    expect(s.appStates()).toEqual(['BOOT', 'STOPPING', 'STOPPED']);
    expect(alive(Number(readFileSync(join(dir, 'boot.pid'), 'utf8')))).toBe(false);
    expect(s.events.some((e) => e.kind === 'service' && e.to === 'running')).toBe(false);
  });

  it('an app without stages goes BOOT, WARMUP, UP once its services are ready', async () => {
    const dir = tmp();
    const plan = stackPlan(dir, [
      servicePlan('a', 'exec sleep 1000'),
      servicePlan('b', 'exec sleep 1000', { after: ['a'] }),
    ]);
    const s = await up(plan);
    await waitFor(() => s.rt.appState() === 'UP', { what: 'UP' });
    expect(s.appStates()).toEqual(['BOOT', 'WARMUP', 'UP']);
    expect(s.rt.stack.allReady()).toBe(true);
    expect(s.rt.settings()).toEqual({});
  });

  it('goes UP naming a service that failed instead of hanging in WARMUP', async () => {
    const dir = tmp();
    const plan = stackPlan(dir, [
      servicePlan('ok', 'exec sleep 1000'),
      // never gets to run at all: its folder does not exist
      servicePlan('broken', 'true', {
        cwd: join(dir, 'missing'),
        restart: { maxFailures: 2, backoff: { initialMs: 10, maxMs: 20 } },
      }),
    ]);
    const s = await up(plan);
    await waitFor(() => s.rt.appState() === 'UP', { what: 'UP' });
    expect(s.appEvents().at(-1)?.reason).toMatch(/^not ready: broken failed/);
  });

  it('monitor: JSON stdout becomes stats; a failure gives RESTARTING then UP with new pids', async () => {
    const dir = tmp();
    script(
      dir,
      'bin/monitor',
      'n=$(cat count 2>/dev/null || echo 0); n=$((n+1)); echo $n > count\necho "{\\"queries\\": $n}"\ntest -f fail && { rm fail; echo "app is stuck" >&2; exit 2; }\nexit 0',
    );
    const plan = stackPlan(
      dir,
      [servicePlan('web', 'exec sleep 1000'), servicePlan('worker', 'exec sleep 1000', { after: ['web'] })],
      {
        file: join(dir, 'tend.yaml'),
        stages: { monitor: { command: sh('./bin/monitor'), timeoutMs: 5000, intervalMs: 100 } },
      },
    );
    const s = await up(plan);
    await waitFor(() => s.events.filter((e) => e.kind === 'stats').length >= 2, { what: 'two stats events' });
    const stats = s.events.find((e): e is StatsEvent => e.kind === 'stats');
    expect(stats?.stats).toEqual({ queries: 1 });
    const before = s.rt.stack.status().map((x) => x.pid);

    writeFileSync(join(dir, 'fail'), '');
    await waitFor(() => s.appStates().includes('RESTARTING') && s.rt.appState() === 'UP', {
      what: 'restart',
    });
    const restarting = s.appEvents().find((e) => e.to === 'RESTARTING');
    expect(restarting?.reason).toBe('monitor failed: exit code 2');
    expect(restarting?.output).toContain('app is stuck');
    expect(s.appStates().slice(-2)).toEqual(['RESTARTING', 'UP']);
    const after = s.rt.stack.status().map((x) => x.pid);
    for (let i = 0; i < before.length; i++) {
      expect(after[i]).toBeDefined();
      expect(after[i]).not.toBe(before[i]);
      expect(alive(before[i] as number)).toBe(false);
    }
    // the dependant stopped before and started after its dependency
    const order = s.events
      .filter(
        (e) =>
          e.kind === 'service' &&
          e.seq > (restarting?.seq ?? 0) &&
          (e.to === 'stopped' || e.to === 'running'),
      )
      .map((e) => (e.kind === 'service' ? `${e.service} ${e.to}` : ''));
    expect(order).toEqual(['worker stopped', 'web stopped', 'web running', 'worker running']);
    // and the monitor keeps going
    const n = s.events.filter((e) => e.kind === 'stats').length;
    await waitFor(() => s.events.filter((e) => e.kind === 'stats').length > n + 1, { what: 'more stats' });
  });

  it('hangup: RESTARTING, handlers run while the services are down, then UP', async () => {
    const dir = tmp();
    const plan = stackPlan(dir, [servicePlan('web', 'exec sleep 1000')]);
    const s = await up(plan);
    await waitFor(() => s.rt.appState() === 'UP', { what: 'UP' });
    const pid = s.rt.stack.status()[0].pid;
    let seenState: string | undefined;
    s.rt.onHangup(() => {
      seenState = s.rt.stack.status()[0].state;
    });
    await s.rt.hangup();
    expect(seenState).toBe('stopped');
    expect(s.appStates()).toEqual(['BOOT', 'WARMUP', 'UP', 'RESTARTING', 'UP']);
    expect(s.appEvents().at(-2)?.reason).toBe('received SIGHUP');
    expect(s.rt.stack.status()[0].pid).not.toBe(pid);
  });
});
