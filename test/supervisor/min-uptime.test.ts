/** The give-up rule of the restart defaults: only failed starts (runs shorter than min_uptime) count. */
import { describe, expect, it } from 'vitest';
import { type Input, initialModel, type Model, transition } from '../../src/supervisor/machine.js';
import { servicePlan } from '../helpers/plan.js';

type In = Input extends infer I ? (I extends Input ? Omit<I, 'now'> : never) : never;

const defaults = {
  maxFailures: 5,
  minUptimeMs: 1000,
  windowMs: 10_000,
  resetAfterMs: 10_000,
  cooldownMs: 300_000,
  backoff: { initialMs: 100, maxMs: 30_000 },
};

/** Runs `count` lives of `ranMs` each, 200ms between them; returns the final model. */
function lives(count: number, ranMs: number, o: { essential?: boolean } = {}) {
  const plan = servicePlan('w', 'false', { restart: defaults, essential: o.essential ?? false });
  let now = 0;
  let m: Model = initialModel();
  const step = (input: In) => {
    m = transition(m, { ...input, now } as Input, plan, 1).model;
    return m.state;
  };
  let state = step({ t: 'start' });
  for (let i = 0; i < count && state === 'starting'; i++) {
    step({ t: 'spawned', pid: 100 + i });
    now += ranMs;
    state = step({ t: 'exit', code: 1, signal: null });
    if (state === 'backoff') {
      now += 200;
      state = step({ t: 'timer', name: 'backoff' });
    }
  }
  return m;
}

describe('restart defaults', () => {
  it('never give up on a service whose runs outlive min_uptime, however often it crashes', () => {
    const m = lives(50, 1500);
    expect(m.state).toBe('starting');
    expect(m.failures).toEqual([]);
  });

  it('give up after 5 failed starts within 10s', () => {
    const plan = servicePlan('w', 'false', { restart: defaults });
    let m: Model = initialModel();
    let now = 0;
    const step = (input: In) => {
      m = transition(m, { ...input, now } as Input, plan, 1).model;
      return m.state;
    };
    step({ t: 'start' });
    for (let i = 0; i < 5; i++) {
      step({ t: 'spawned', pid: i + 1 });
      now += 10;
      if (step({ t: 'exit', code: 3, signal: null }) === 'backoff') {
        now += 200;
        step({ t: 'timer', name: 'backoff' });
      }
    }
    expect(m.state).toBe('failed');
    expect(m.reason).toMatch(/^5 failures in 10s \(last: exit code 3\); retrying in 5m$/);
  });

  it('an essential service that fails for good announces no retry', () => {
    const m = lives(5, 10, { essential: true });
    expect(m.state).toBe('failed');
    expect(m.reason).not.toMatch(/retrying/);
  });
});
