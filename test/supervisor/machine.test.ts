import { describe, expect, it } from 'vitest';
import {
  backoffDelay,
  endStatus,
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

describe('a config change as an input of the machine', () => {
  const plan = servicePlan('w', 'x', {
    restart: { backoff: { initialMs: 100, maxMs: 1000 }, maxFailures: 3 },
  });
  const restart = {
    t: 'config',
    change: { restart: true, signals: [] },
    reason: 'config changed: a.conf',
  } as const;
  const hup = {
    t: 'config',
    change: { restart: false, signals: ['SIGHUP', 'SIGHUP'] },
    reason: 'x',
  } as const;
  const effectsOf = (inputs: Array<[number, In]>, p = plan) => run(p, inputs).trace.at(-1);

  it('restarts a running or starting service, and signals it once per distinct signal', () => {
    expect(
      effectsOf([
        [0, { t: 'start' }],
        [0, { t: 'spawned', pid: 1 }],
        [1, restart],
      ]),
    ).toEqual({
      state: 'stopping',
      effects: ['stop-probes', 'signal', 'timer:kill'],
    });
    expect(
      effectsOf([
        [0, { t: 'start' }],
        [1, restart],
      ])?.state,
    ).toBe('stopping');
    expect(
      effectsOf([
        [0, { t: 'start' }],
        [0, { t: 'spawned', pid: 1 }],
        [1, hup],
      ]),
    ).toEqual({
      state: 'running',
      effects: ['signal'],
    });
  });

  it('leaves a stopping service alone: a restart in progress spawns on the new config, a stop stays a stop', () => {
    const restarting = run(plan, [
      [0, { t: 'start' }],
      [0, { t: 'spawned', pid: 1 }],
      [1, { t: 'restart' }],
      [2, restart],
      [3, hup],
    ]);
    expect(restarting.trace.slice(-2)).toEqual([
      { state: 'stopping', effects: [] },
      { state: 'stopping', effects: [] },
    ]);
    expect(run(plan, [[4, { t: 'exit', code: 0, signal: null }]], restarting.m).m.state).toBe('starting');
    const stopping = run(plan, [
      [0, { t: 'start' }],
      [0, { t: 'spawned', pid: 1 }],
      [1, { t: 'stop' }],
      [2, restart],
    ]);
    expect(stopping.trace.at(-1)).toEqual({ state: 'stopping', effects: [] });
    expect(run(plan, [[4, { t: 'exit', code: 0, signal: null }]], stopping.m).m.state).toBe('stopped');
  });

  it('does not cut a backoff short nor start a waiting, stopped or exited service', () => {
    const crashing: Array<[number, In]> = [
      [0, { t: 'start' }],
      [0, { t: 'spawned', pid: 1 }],
      [1, { t: 'exit', code: 1, signal: null }],
      [1, { t: 'spawned', pid: 2 }],
      [2, { t: 'exit', code: 1, signal: null }],
    ];
    expect(run(plan, crashing).m.state).toBe('backoff');
    expect(effectsOf([...crashing, [3, restart]])).toEqual({ state: 'backoff', effects: [] });
    expect(effectsOf([...crashing, [3, hup]])).toEqual({ state: 'backoff', effects: [] });
    const gated: Array<[number, In]> = [
      [0, { t: 'gates', open: false, reason: 'config' }],
      [0, { t: 'start' }],
    ];
    expect(effectsOf([...gated, [1, restart]])).toEqual({ state: 'waiting', effects: [] });
    expect(effectsOf([[0, restart]])).toEqual({ state: 'stopped', effects: [] });
    const never = servicePlan('w', 'x', { restart: { policy: 'never' } });
    const exited: Array<[number, In]> = [
      [0, { t: 'start' }],
      [0, { t: 'spawned', pid: 1 }],
      [1, { t: 'exit', code: 0, signal: null }],
    ];
    expect(effectsOf([...exited, [2, restart]], never)).toEqual({ state: 'exited', effects: [] });
  });

  it('gives a failed service a new chance, through its gates', () => {
    const failing: Array<[number, In]> = [
      [0, { t: 'gates', open: false, reason: 'waiting for config' }],
      [0, { t: 'start' }],
      [1, { t: 'fail', reason: 'config never came' }],
      [2, { t: 'gates', open: true }],
    ];
    const r = run(plan, [...failing, [2, restart]]);
    expect(r.m.state).toBe('starting');
    expect(r.trace.at(-1)?.effects).toContain('spawn');
    const gated = run(plan, [
      ...failing,
      [2, { t: 'gates', open: false, reason: 'waiting for db' }],
      [3, restart],
    ]);
    expect(gated.m.state).toBe('waiting');
    expect(effectsOf([...failing, [2, hup]])).toEqual({ state: 'failed', effects: [] });
    const stoppedFailed = run(plan, [...failing, [2, { t: 'stop' }], [3, restart]]);
    expect(stoppedFailed.m.state).toBe('stopped');
  });

  it('never restarts a job', () => {
    const job = servicePlan('j', 'x', { isJob: true });
    expect(
      effectsOf(
        [
          [0, { t: 'start' }],
          [0, { t: 'spawned', pid: 1 }],
          [1, restart],
        ],
        job,
      ),
    ).toEqual({
      state: 'running',
      effects: [],
    });
  });
});

describe('exit codes that mean something (restart.prevent_exit_codes, restart.success_exit_codes)', () => {
  const plan = servicePlan('lb', 'x', {
    restart: { preventExitCodes: [3], successExitCodes: [2], backoff: { initialMs: 100, maxMs: 100 } },
  });
  const started: Array<[number, In]> = [
    [0, { t: 'start' }],
    [0, { t: 'spawned', pid: 1 }],
  ];

  it('does not restart a prevented exit code, says why, and counts no failure', () => {
    const { m, trace } = run(plan, [...started, [5, { t: 'exit', code: 3, signal: null }]]);
    expect(m.state).toBe('exited');
    expect(m.reason).toBe(
      'exit code 3, in restart.prevent_exit_codes: not restarted until its config changes or it is started',
    );
    expect(trace.at(-1)?.effects).not.toContain('spawn');
    expect(trace.at(-1)?.effects.some((e) => e.startsWith('timer'))).toBe(false);
    expect(m.streak).toBe(0);
    expect(m.failures).toEqual([]);
    // any other code is a failure as before
    expect(run(plan, [...started, [5, { t: 'exit', code: 4, signal: null }]]).m.state).toBe('starting');
  });

  it('starts a held service again when its config changes, by restart or by signal, or on start', () => {
    const held: Array<[number, In]> = [...started, [5, { t: 'exit', code: 3, signal: null }]];
    for (const change of [
      { restart: true, signals: [] },
      { restart: false, signals: ['SIGHUP'] as NodeJS.Signals[] },
    ]) {
      const { m, trace } = run(plan, [
        ...held,
        [6, { t: 'config', change, reason: 'config changed: lb.conf' }],
      ]);
      expect(m.state).toBe('starting');
      expect(trace.at(-1)?.effects).toContain('spawn');
    }
    expect(run(plan, [...held, [6, { t: 'start' }]]).m.state).toBe('starting');
    const again = run(plan, [...held, [6, { t: 'start' }], [7, { t: 'spawned', pid: 2 }]]).m;
    expect(again.held).toBeUndefined();
    // a service exited by policy (on-failure, clean) is not started by a config change
    const onFailure = servicePlan('o', 'x', { restart: { policy: 'on-failure' } });
    const clean = run(onFailure, [
      ...started,
      [5, { t: 'exit', code: 0, signal: null }],
      [6, { t: 'config', change: { restart: true, signals: [] }, reason: 'x' }],
    ]);
    expect(clean.m.state).toBe('exited');
    // stopped by hand, it stays down
    const down = run(plan, [
      ...held,
      [6, { t: 'stop' }],
      [7, { t: 'config', change: { restart: true, signals: [] }, reason: 'x' }],
    ]);
    expect(down.m.state).toBe('exited');
  });

  it('treats a success exit code as 0: on-failure does not restart it', () => {
    const onFailure = servicePlan('o', 'x', {
      restart: { policy: 'on-failure', successExitCodes: [2] },
    });
    const two = run(onFailure, [...started, [5, { t: 'exit', code: 2, signal: null }]]).m;
    expect(two.state).toBe('exited');
    expect(two.reason).toBe('exit code 2 (a success exit code)');
    expect(run(onFailure, [...started, [5, { t: 'exit', code: 1, signal: null }]]).m.state).toBe('starting');
    expect(endStatus(onFailure, 2, null)).toBe(0);
    expect(endStatus(onFailure, 3, null)).toBe(3);
    expect(endStatus(onFailure, null, 'SIGKILL')).toBe(137);
  });

  it('sends reload signals to the main process, stop signals to the group', () => {
    const signals = (p: typeof plan) =>
      [
        transition(
          run(p, started).m,
          { t: 'config', change: { restart: false, signals: ['SIGHUP'] }, reason: 'x', now: 1 },
          p,
          1,
        ),
        transition(run(p, started).m, { t: 'stop', now: 1 }, p, 1),
      ].map((r) => r.effects.filter((e) => e.t === 'signal'));
    expect(signals(plan)).toEqual([
      [{ t: 'signal', signal: 'SIGHUP', to: 'main' }],
      [{ t: 'signal', signal: 'SIGTERM', to: 'group' }],
    ]);
    expect(signals(servicePlan('g', 'x', { signalGroup: true }))[0]).toEqual([
      { t: 'signal', signal: 'SIGHUP', to: 'group' },
    ]);
  });
});
