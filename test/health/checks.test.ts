/** Readiness and health checks driving real services through the real stack. */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createBus, type HealthEvent, type ServiceEvent } from '../../src/events/index.js';
import { createServiceChecks } from '../../src/health/index.js';
import type { ServicePlan } from '../../src/manifest/types.js';
import { createStack, type Stack } from '../../src/supervisor/index.js';
import { freePort } from '../helpers/etcd.js';
import { servicePlan, sh, stackPlan } from '../helpers/plan.js';
import { waitFor } from '../helpers/wait.js';

const stacks: Stack[] = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const s of stacks.splice(0)) {
    await s.stopAll('test over');
    await s.close();
  }
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tmp() {
  const d = mkdtempSync(join(tmpdir(), 'tend-checks-'));
  dirs.push(d);
  return d;
}

function run(sp: ServicePlan) {
  const dir = tmp();
  const bus = createBus();
  const health: HealthEvent[] = [];
  const states: ServiceEvent[] = [];
  bus.subscribe((e) => {
    if (e.kind === 'health') health.push(e);
    if (e.kind === 'service') states.push(e);
  });
  const stack = createStack({
    plan: stackPlan(dir, [sp]),
    bus,
    hooks: (plan, log) => createServiceChecks({ service: plan, log, publish: (e) => bus.publish(e) }).hooks,
  });
  stacks.push(stack);
  stack.start(sp.name);
  const runner = stack.runner(sp.name);
  if (!runner) throw new Error('no runner');
  return { stack, runner, health, states, dir, log: () => stack.log(sp.name)?.tail(200) ?? [] };
}

const node = (code: string) => ({ kind: 'argv' as const, argv: [process.execPath, '-e', code] });

describe('readiness', () => {
  it('by a log line matching a regular expression', async () => {
    const { runner, health, log } = run(
      servicePlan('logger', 'echo booting; sleep 0.3; echo "server listening on :8080"; exec sleep 60', {
        ready: { probe: { kind: 'log', pattern: 'listening on :\\d+' }, intervalMs: 100, timeoutMs: 10_000 },
      }),
    );
    expect(runner.model().ready).toBe(false);
    await waitFor(() => runner.model().state === 'ready', { what: 'ready' });
    expect(health).toHaveLength(1);
    expect(health[0]).toMatchObject({ service: 'logger', check: 'ready', ok: true });
    expect(health[0].output).toContain('server listening on :8080');
    expect(log().some((l) => l.stream === 'tend' && /ready after/.test(l.text))).toBe(true);
  });

  it('a backtracking log pattern fails readiness with a clear reason instead of freezing tend', async () => {
    // `(a*)*b` against 40 a's and no b backtracks for hours in a JS RegExp (RE2 would not).
    const { runner, health } = run(
      servicePlan('greedy', `echo ${'a'.repeat(40)}c; exec sleep 60`, {
        ready: { probe: { kind: 'log', pattern: '(a*)*b' }, intervalMs: 100, timeoutMs: 30_000 },
        restart: { policy: 'never' },
      }),
    );
    // the event loop stays free: the timer of waitFor keeps firing while the pattern runs
    await waitFor(() => health.length > 0, { what: 'the readiness verdict', timeoutMs: 15_000 });
    expect(health[0]).toMatchObject({ check: 'ready', ok: false });
    expect(health[0].output).toMatch(/regexp "\(a\*\)\*b" took over 1000ms .*simplify the pattern/);
    expect(runner.model().ready).toBe(false);
  });

  it('by a TCP connection, polled until the port opens', async () => {
    const port = await freePort();
    const { runner, states, health } = run(
      servicePlan(
        'tcp',
        node(
          `setTimeout(() => require('net').createServer(c => c.end()).listen(${port}, '127.0.0.1'), 400); setInterval(() => {}, 1000)`,
        ),
        { ready: { probe: { kind: 'tcp', host: '127.0.0.1', port }, intervalMs: 50, timeoutMs: 15_000 } },
      ),
    );
    await waitFor(() => runner.model().state === 'ready', { what: 'ready' });
    expect(states.map((e) => e.to)).toEqual(['starting', 'running', 'ready']);
    // polling failures before the port opened are not results: one event, when it became ready
    expect(health.map((e) => [e.check, e.ok])).toEqual([['ready', true]]);
    expect(health[0].output).toBe(`connected to 127.0.0.1:${port}`);
  });

  it('a service that never becomes ready is a failed start for the restart policy', async () => {
    const { runner, states, health } = run(
      servicePlan('stuck', 'exec sleep 60', {
        ready: { probe: { kind: 'exec', command: sh('exit 1') }, intervalMs: 100, timeoutMs: 500 },
        restart: { maxFailures: 2, backoff: { initialMs: 100, maxMs: 200 } },
      }),
    );
    await waitFor(() => runner.model().state === 'failed', { what: 'failed', timeoutMs: 15_000 });
    expect(runner.model().spawns).toBe(2);
    expect(runner.model().reason).toMatch(/not ready within 500ms \(last: exit code 1\)/);
    // each start that timed out was stopped by tend (the process did not exit on its own)
    expect(states.filter((e) => e.to === 'stopping')).toHaveLength(2);
    expect(health.every((e) => e.check === 'ready' && !e.ok)).toBe(true);
  });
});

describe('health', () => {
  it('restarts the service after exactly `failures` failures in a row, reporting only changes', async () => {
    const dir = tmp();
    const flag = join(dir, 'fail');
    const count = join(dir, 'failures');
    const { runner, health, states } = run(
      servicePlan('web', 'exec sleep 60', {
        health: {
          probe: {
            kind: 'exec',
            command: sh(`if [ -f ${flag} ]; then echo x >> ${count}; echo "db down"; exit 1; fi; echo fine`),
          },
          intervalMs: 100,
          timeoutMs: 5000,
          failures: 3,
          // time for the test to clear the flag before the restarted process is checked
          graceMs: 1500,
        },
      }),
    );
    await waitFor(() => health.some((e) => e.check === 'health' && e.ok), { what: 'a passing check' });
    // passing checks keep running, silently
    await new Promise((r) => setTimeout(r, 400));
    expect(health.filter((e) => e.check === 'health')).toHaveLength(1);
    writeFileSync(flag, '');
    await waitFor(() => runner.model().spawns === 2, { what: 'the restart', timeoutMs: 15_000 });
    rmSync(flag);
    await waitFor(() => runner.model().state === 'running' && health.filter((e) => e.ok).length === 2, {
      what: 'healthy again',
      timeoutMs: 15_000,
    });
    expect(readFileSync(count, 'utf8').trim().split('\n')).toHaveLength(3);
    const stop = states.find((e) => e.to === 'stopping');
    expect(stop?.reason).toBe('3 health checks failed in a row (last: exit code 1: db down)');
    expect(health.filter((e) => e.check === 'health').map((e) => e.ok)).toEqual([true, false, true]);
    expect(runner.status().restarts).toBe(1);
  });

  it('a check slower than its timeout counts as a failure', async () => {
    const dir = tmp();
    const started = join(dir, 'started');
    const { runner, states } = run(
      servicePlan('slow', 'exec sleep 60', {
        health: {
          probe: { kind: 'exec', command: sh(`echo x >> ${started}; sleep 10`) },
          intervalMs: 100,
          timeoutMs: 300,
          failures: 2,
          graceMs: 0,
        },
        restart: { policy: 'never' },
      }),
    );
    await waitFor(() => runner.model().state === 'exited', {
      what: 'stopped as unhealthy',
      timeoutMs: 15_000,
    });
    expect(states.find((e) => e.to === 'stopping')?.reason).toBe(
      '2 health checks failed in a row (last: timed out after 300ms)',
    );
    expect(readFileSync(started, 'utf8').trim().split('\n')).toHaveLength(2);
  });

  it('waits `grace` after the start before the first check', async () => {
    const dir = tmp();
    const stamp = join(dir, 'first');
    const t0 = Date.now();
    const { runner } = run(
      servicePlan('graceful', 'exec sleep 60', {
        health: {
          probe: {
            kind: 'exec',
            command: sh(`[ -f ${stamp} ] || node -e 'console.log(Date.now())' > ${stamp}`),
          },
          intervalMs: 100,
          timeoutMs: 5000,
          failures: 3,
          graceMs: 700,
        },
      }),
    );
    await waitFor(() => existsSync(stamp) && readFileSync(stamp, 'utf8').trim() !== '', {
      what: 'first check',
    });
    expect(Number(readFileSync(stamp, 'utf8'))).toBeGreaterThanOrEqual(t0 + 700);
    expect(runner.model().state).toBe('running');
  });
});
