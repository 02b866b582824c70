/**
 * The wall clock stepped back an hour (NTP, a VM resumed, an operator's `date -s`): elapsed times come from
 * the monotonic clock, so uptime stays positive and reset_after still forgives a service that ran long enough.
 * Date.now is moved back; performance.now, like CLOCK_MONOTONIC, is not.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createBus, type ServiceEvent } from '../../src/events/index.js';
import { createServiceRunner, type ServiceRunner } from '../../src/supervisor/index.js';
import { servicePlan } from '../helpers/plan.js';
import { waitFor } from '../helpers/wait.js';

const HOUR = 3_600_000;
const runners: ServiceRunner[] = [];

afterEach(async () => {
  vi.restoreAllMocks();
  await Promise.all(
    runners.splice(0).map(async (r) => {
      r.send({ t: 'stop' });
      await r.settled();
    }),
  );
});

function stepWallClockBack(ms: number) {
  const real = Date.now.bind(Date);
  vi.spyOn(Date, 'now').mockImplementation(() => real() - ms);
}

function start(plan: ReturnType<typeof servicePlan>) {
  const bus = createBus();
  const events: ServiceEvent[] = [];
  bus.subscribe((e) => {
    if (e.kind === 'service') events.push(e);
  });
  const r = createServiceRunner({ plan, bus, env: process.env });
  runners.push(r);
  r.send({ t: 'start' });
  return { r, events };
}

describe('a wall clock stepped back an hour', () => {
  it('leaves the uptime positive; startedAt stays the date it started', async () => {
    const { r } = start(servicePlan('web', 'exec sleep 30'));
    await waitFor(() => r.model().state === 'running');
    const startedAt = r.status().startedAt ?? 0;
    expect(Math.abs(startedAt - Date.now())).toBeLessThan(60_000);
    await new Promise((done) => setTimeout(done, 50));
    stepWallClockBack(HOUR);
    const s = r.status();
    expect(s.uptimeMs).toBeGreaterThanOrEqual(50);
    expect(s.uptimeMs).toBeLessThan(HOUR);
    expect(s.startedAt).toBe(startedAt);
  });

  it('still forgives failures after reset_after of uptime', async () => {
    // each run lasts ~300 ms, past reset_after (100 ms): every crash is the first of a streak, restarted at once
    const plan = servicePlan('blink', 'sleep 0.3; exit 1', {
      restart: { resetAfterMs: 100, maxFailures: 0, backoff: { initialMs: 60_000, maxMs: 60_000 } },
    });
    const { r, events } = start(plan);
    // one crash first, so that the next one would be the second in a row if the uptime were not seen
    await waitFor(() => events.filter((e) => e.to === 'running').length >= 2);
    stepWallClockBack(HOUR);
    await waitFor(() => events.filter((e) => e.to === 'running').length >= 3, {
      what: 'two restarts at once',
    });
    expect(events.some((e) => e.to === 'backoff')).toBe(false);
    expect(r.status().failureStreak).toBeLessThanOrEqual(1);
  });
});
