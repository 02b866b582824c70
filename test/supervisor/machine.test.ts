import { describe, expect, it } from 'vitest';
import {
  backoffDelay,
  type Input,
  initialModel,
  type Model,
  transition,
} from '../../src/supervisor/machine.js';
import { servicePlan } from '../helpers/plan.js';

type In = Input extends infer I ? (I extends Input ? Omit<I, 'now'> : never) : never;

function run(plan = servicePlan('web', 'true'), inputs: Array<[number, In]>, start = initialModel()) {
  let m: Model = start;
  const trace: Array<{ state: string; effects: string[] }> = [];
  for (const [now, input] of inputs) {
    const r = transition(m, { ...input, now } as Input, plan, 1);
    m = r.model;
    trace.push({ state: m.state, effects: r.effects.map((e) => ('name' in e ? `${e.t}:${e.name}` : e.t)) });
  }
  return { m, trace };
}

describe('service state machine', () => {
  it('spawns on start and is ready without a probe', () => {
    const { m, trace } = run(undefined, [
      [0, { t: 'start' }],
      [1, { t: 'spawned', pid: 10 }],
    ]);
    expect(trace[0].state).toBe('starting');
    expect(trace[0].effects).toContain('spawn');
    expect(m.state).toBe('running');
    expect(m.ready).toBe(true);
  });

  it('restarts the first failure at once, then backs off exponentially', () => {
    const plan = servicePlan('w', 'false', {
      restart: { backoff: { initialMs: 100, maxMs: 1000 }, maxFailures: 0 },
    });
    expect(backoffDelay(plan, 1, 1)).toBe(0);
    expect(backoffDelay(plan, 2, 1)).toBe(100);
    expect(backoffDelay(plan, 3, 1)).toBe(200);
    expect(backoffDelay(plan, 10, 1)).toBe(1000);
    expect(backoffDelay(plan, 3, 0)).toBe(100); // jitter spreads over [d/2, d]
    const { trace } = run(plan, [
      [0, { t: 'start' }],
      [0, { t: 'spawned', pid: 1 }],
      [10, { t: 'exit', code: 1, signal: null }],
      [10, { t: 'spawned', pid: 2 }],
      [20, { t: 'exit', code: 1, signal: null }],
    ]);
    expect(trace[2]).toEqual({
      state: 'starting',
      effects: ['clear-timer:kill', 'stop-probes', 'finish', 'spawn'],
    });
    expect(trace[4].state).toBe('backoff');
    expect(trace[4].effects).toContain('timer:backoff');
  });

  it('fails after max_failures within the window and retries after the cooldown', () => {
    const plan = servicePlan('w', 'false', {
      restart: { maxFailures: 3, windowMs: 1000, cooldownMs: 5000, backoff: { initialMs: 1, maxMs: 1 } },
    });
    const inputs: Array<[number, In]> = [[0, { t: 'start' }]];
    for (let i = 0; i < 3; i++) {
      inputs.push([i * 10, { t: 'spawned', pid: i + 1 }], [i * 10 + 5, { t: 'exit', code: 2, signal: null }]);
      if (i === 1) inputs.push([i * 10 + 6, { t: 'timer', name: 'backoff' }]);
    }
    const { m, trace } = run(plan, inputs);
    expect(m.state).toBe('failed');
    expect(m.reason).toMatch(/3 failures in 1s.*retrying in 5s/);
    expect(trace.at(-1)?.effects).toContain('timer:cooldown');
    const after = transition(m, { t: 'timer', name: 'cooldown', now: 6000 }, plan, 1);
    expect(after.model.state).toBe('starting');
    expect(after.model.failures).toEqual([]);
  });

  it('forgets failures after reset_after of uptime', () => {
    const plan = servicePlan('w', 'x', {
      restart: { resetAfterMs: 1000, backoff: { initialMs: 100, maxMs: 100 } },
    });
    const { m } = run(plan, [
      [0, { t: 'start' }],
      [0, { t: 'spawned', pid: 1 }],
      [10, { t: 'exit', code: 1, signal: null }],
      [10, { t: 'spawned', pid: 2 }],
      [5000, { t: 'exit', code: 1, signal: null }],
    ]);
    expect(m.streak).toBe(1);
    expect(m.state).toBe('starting');
  });

  it('honours on-failure and never', () => {
    const onFailure = servicePlan('w', 'x', { restart: { policy: 'on-failure' } });
    expect(
      run(onFailure, [
        [0, { t: 'start' }],
        [0, { t: 'spawned', pid: 1 }],
        [5, { t: 'exit', code: 0, signal: null }],
      ]).m.state,
    ).toBe('exited');
    expect(
      run(onFailure, [
        [0, { t: 'start' }],
        [0, { t: 'spawned', pid: 1 }],
        [5, { t: 'exit', code: 3, signal: null }],
      ]).m.state,
    ).toBe('starting');
    const never = servicePlan('w', 'x', { restart: { policy: 'never' } });
    expect(
      run(never, [
        [0, { t: 'start' }],
        [0, { t: 'spawned', pid: 1 }],
        [5, { t: 'exit', code: 3, signal: null }],
      ]).m.state,
    ).toBe('exited');
  });

  it('stops with the stop signal, then SIGKILL on the timer, and restarts on request', () => {
    const plan = servicePlan('w', 'x', { stop: { signal: 'SIGINT', timeoutMs: 500 } });
    const { m, trace } = run(plan, [
      [0, { t: 'start' }],
      [0, { t: 'spawned', pid: 1 }],
      [5, { t: 'stop' }],
      [505, { t: 'timer', name: 'kill' }],
      [506, { t: 'exit', code: null, signal: 'SIGKILL' }],
    ]);
    expect(trace[2]).toEqual({ state: 'stopping', effects: ['stop-probes', 'signal', 'timer:kill'] });
    expect(trace[3].effects).toEqual(['signal']);
    expect(m.state).toBe('stopped');
    const r = run(plan, [
      [0, { t: 'start' }],
      [0, { t: 'spawned', pid: 1 }],
      [5, { t: 'restart' }],
      [6, { t: 'exit', code: 0, signal: 'SIGTERM' }],
    ]);
    expect(r.m.state).toBe('starting');
  });

  it('waits behind closed gates and starts when they open', () => {
    const { m, trace } = run(undefined, [
      [0, { t: 'gates', open: false, reason: 'waiting for db to be ready' }],
      [0, { t: 'start' }],
      [5, { t: 'gates', open: true }],
    ]);
    expect(trace[1].state).toBe('waiting');
    expect(m.state).toBe('starting');
  });

  it('treats a readiness timeout and an unhealthy verdict as failures', () => {
    const plan = servicePlan('w', 'x', {
      ready: { probe: { kind: 'tcp', host: '127.0.0.1', port: 1 }, intervalMs: 100, timeoutMs: 1000 },
    });
    const { m } = run(plan, [
      [0, { t: 'start' }],
      [0, { t: 'spawned', pid: 1 }],
      [1000, { t: 'not-ready', reason: 'not ready within 1s' }],
      [1001, { t: 'exit', code: null, signal: 'SIGTERM' }],
    ]);
    expect(m.state).toBe('starting');
    expect(m.streak).toBe(1);
  });
});
