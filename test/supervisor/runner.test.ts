import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createBus, type ServiceEvent } from '../../src/events/index.js';
import { createServiceRunner, type ServiceHooks, type ServiceRunner } from '../../src/supervisor/index.js';
import { servicePlan } from '../helpers/plan.js';
import { alive, waitFor } from '../helpers/wait.js';

const runners: ServiceRunner[] = [];
const dirs: string[] = [];
const strayPids: number[] = [];

afterEach(async () => {
  await Promise.all(
    runners.splice(0).map(async (r) => {
      r.send({ t: 'stop' });
      await r.settled();
    }),
  );
  for (const pid of strayPids.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {}
  }
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function setup(plan: ReturnType<typeof servicePlan>, hooks?: ServiceHooks) {
  const bus = createBus();
  const events: ServiceEvent[] = [];
  bus.subscribe((e) => {
    if (e.kind === 'service') events.push(e);
  });
  const r = createServiceRunner({ plan, bus, env: process.env, hooks });
  runners.push(r);
  return { r, events };
}

function tmp() {
  const d = mkdtempSync(join(tmpdir(), 'tend-runner-'));
  dirs.push(d);
  return d;
}

describe('service runner (real processes)', () => {
  it('an immediate restart reads running → starting → running, each event with the right pid, hooks in order', async () => {
    const seen: string[] = [];
    const plan = servicePlan('blink', 'sleep 0.2; exit 1', { restart: { resetAfterMs: 100 } });
    const { r, events } = setup(plan, {
      onSpawn: (c) => seen.push(`spawn ${c.pid}`),
      onState: (next, prev) => seen.push(`${prev.state}->${next.state}`),
    });
    r.send({ t: 'start' });
    await waitFor(() => events.filter((e) => e.to === 'running').length >= 3, { what: 'two restarts' });
    const moves = events.slice(0, 6).map((e) => [e.from, e.to, e.pid, e.exitCode]);
    const [p1, p2, p3] = events.filter((e) => e.to === 'running').map((e) => e.pid);
    expect(new Set([p1, p2, p3]).size).toBe(3);
    expect(moves).toEqual([
      ['stopped', 'starting', undefined, undefined],
      ['starting', 'running', p1, undefined],
      // the exit of p1 carries its code and no pid of the next process, which is already forked
      ['running', 'starting', undefined, 1],
      ['starting', 'running', p2, undefined],
      ['running', 'starting', undefined, 1],
      ['starting', 'running', p3, undefined],
    ]);
    // a process is forked before the hooks of the transition that asked for it, and reported running after
    expect(seen.slice(0, 6)).toEqual([
      `spawn ${p1}`,
      'stopped->starting',
      'starting->running',
      `spawn ${p2}`,
      'running->starting',
      'starting->running',
    ]);
  });

  it('restarts a crashing service with growing delays, fails after max_failures, retries after cooldown', async () => {
    const plan = servicePlan('crash', 'exit 3', {
      restart: {
        backoff: { initialMs: 200, maxMs: 5000 },
        maxFailures: 4,
        windowMs: 60_000,
        cooldownMs: 1500,
      },
    });
    const { r, events } = setup(plan);
    const t0 = Date.now();
    r.send({ t: 'start' });
    await waitFor(() => r.model().state === 'failed', { what: 'failed', timeoutMs: 15_000 });
    const spawnTimes = events.filter((e) => e.to === 'running').map((e) => Date.parse(e.time));
    expect(spawnTimes.length).toBe(4);
    const gaps = spawnTimes.slice(1).map((t, i) => t - spawnTimes[i]);
    // first restart immediate; then ~[100,200] and ~[200,400] with jitter: each gap longer than the last
    expect(gaps[0]).toBeLessThan(150);
    expect(gaps[1]).toBeGreaterThanOrEqual(90);
    expect(gaps[2]).toBeGreaterThan(gaps[1] - 20);
    expect(gaps[2]).toBeGreaterThanOrEqual(190);
    expect(r.model().reason).toMatch(/4 failures/);
    const failedAt = Date.now();
    await waitFor(() => events.filter((e) => e.to === 'running').length >= 5, {
      what: 'retry after cooldown',
    });
    expect(Date.now() - failedAt).toBeGreaterThanOrEqual(1000);
    expect(Date.now() - t0).toBeLessThan(15_000);
    const last = events.filter((e) => e.to === 'backoff' || e.to === 'starting').at(-1);
    expect(last?.exitCode === undefined || last?.exitCode === 3).toBe(true);
    const exitEvent = events.find((e) => e.exitCode === 3);
    expect(exitEvent).toBeDefined();
  });

  it('stops the whole process group: a grandchild ignoring SIGTERM is killed after the timeout', async () => {
    const dir = tmp();
    const pidFile = join(dir, 'grandchild.pid');
    // the grandchild traps TERM and keeps running; the leader waits on it
    const script = `sh -c 'trap "" TERM; echo $$ > ${pidFile}; while :; do sleep 0.05; done' & wait`;
    const plan = servicePlan('stubborn', script, { stop: { signal: 'SIGTERM', timeoutMs: 800 } });
    const { r, events } = setup(plan);
    r.send({ t: 'start' });
    const gpid = await waitFor(() => {
      try {
        return Number(readFileSync(pidFile, 'utf8').trim()) || undefined;
      } catch {
        return undefined;
      }
    });
    strayPids.push(gpid);
    expect(alive(gpid)).toBe(true);
    const t0 = Date.now();
    r.send({ t: 'stop' });
    await r.settled();
    const took = Date.now() - t0;
    expect(alive(gpid)).toBe(false);
    expect(took).toBeGreaterThanOrEqual(700);
    expect(took).toBeLessThan(5000);
    expect(r.model().state).toBe('stopped');
    expect(events.some((e) => e.to === 'stopping' && /killed/.test(e.reason ?? ''))).toBe(true);
  });

  it('finishes a stop as soon as the processes are gone (no fixed sleep)', async () => {
    const plan = servicePlan('quick', 'exec sleep 30', { stop: { timeoutMs: 10_000 } });
    const { r } = setup(plan);
    r.send({ t: 'start' });
    await waitFor(() => r.model().state === 'running');
    const t0 = Date.now();
    r.send({ t: 'stop' });
    await r.settled();
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  it('kills leftovers of a crashed leader before restarting it', async () => {
    const dir = tmp();
    const pidFile = join(dir, 'left.pid');
    const plan = servicePlan('leaky', `sleep 30 & echo $! > ${pidFile}; sleep 0.2; exit 1`, {
      restart: { maxFailures: 0 },
      stop: { timeoutMs: 2000 },
    });
    const { r } = setup(plan);
    r.send({ t: 'start' });
    const first = await waitFor(() => {
      try {
        return Number(readFileSync(pidFile, 'utf8').trim()) || undefined;
      } catch {
        return undefined;
      }
    });
    strayPids.push(first);
    await waitFor(() => !alive(first), { what: 'leftover killed' });
    await waitFor(() => r.model().spawns >= 2, { what: 'restart' });
  });

  it('a restart request replaces the process', async () => {
    const { r } = setup(servicePlan('svc', 'exec sleep 30'));
    r.send({ t: 'start' });
    await waitFor(() => r.model().state === 'running');
    const pid1 = r.model().pid;
    r.send({ t: 'restart', reason: 'test' });
    await waitFor(() => r.model().state === 'running' && r.model().pid !== pid1);
    expect(alive(pid1 ?? 0)).toBe(false);
  });

  it('an unhealthy verdict shows as its own state, then restarts the service', async () => {
    let verdicts = 0;
    const plan = servicePlan('sick', 'exec sleep 30', {
      health: {
        probe: { kind: 'tcp', host: '127.0.0.1', port: 1 },
        intervalMs: 50,
        timeoutMs: 50,
        failures: 3,
        graceMs: 0,
      },
    });
    const { r, events } = setup(plan, {
      probeHealth(unhealthy) {
        if (verdicts++ === 0) setTimeout(() => unhealthy('3 health checks failed in a row'), 100);
      },
    });
    r.send({ t: 'start' });
    await waitFor(() => r.model().spawns >= 2 && r.model().state === 'running', { what: 'restart' });
    const states = events.map((e) => e.to);
    const i = states.indexOf('unhealthy');
    expect(i).toBeGreaterThan(0);
    expect(states.slice(i, i + 2)).toEqual(['unhealthy', 'stopping']);
    expect(events[i].reason).toMatch(/3 health checks failed/);
  });
});
