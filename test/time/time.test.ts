/** src/time: the one duration form, backoff, deadlines, sleep and timers longer than Node's limit. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  backoffDelay,
  formatDuration,
  MAX_TIMER_MS,
  setLongInterval,
  setLongTimeout,
  sleep,
  TimeoutError,
  withTimeout,
} from '../../src/time/index.js';

describe('formatDuration', () => {
  it.each([
    [0, '0ms'],
    [350, '350ms'],
    [999.6, '1000ms'],
    [1000, '1s'],
    [4200, '4.2s'],
    [59_900, '59.9s'],
    [59_990, '1m'],
    [60_000, '1m'],
    [90_000, '1m30s'],
    [300_000, '5m'],
    [3_600_000, '1h'],
    [3_720_000, '1h2m'],
    [86_400_000, '1d'],
    [30 * 86_400_000 + 3 * 3_600_000, '30d3h'],
  ])('%d ms reads %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});

describe('backoffDelay', () => {
  const rule = { initialMs: 100, maxMs: 1000 } as const;
  it('doubles from the first delay up to the most', () => {
    const plain = [0, 1, 2, 3, 4, 50].map((a) => backoffDelay(a, { ...rule, jitter: 'none' }));
    expect(plain).toEqual([100, 200, 400, 800, 1000, 1000]);
  });
  it('half jitter stays in [d/2, d]; spread in [0.8d, 1.2d]', () => {
    expect(backoffDelay(2, { ...rule, jitter: 'half' }, 0)).toBe(200);
    expect(backoffDelay(2, { ...rule, jitter: 'half' }, 0.999999)).toBe(400);
    expect(backoffDelay(2, { ...rule, jitter: 'spread' }, 0)).toBe(320);
    expect(backoffDelay(2, { ...rule, jitter: 'spread' }, 0.999999)).toBe(480);
  });
  it('a huge attempt number stays finite', () => {
    expect(backoffDelay(1e9, { initialMs: 1, maxMs: 2 ** 40, jitter: 'none' })).toBe(2 ** 30);
  });
});

describe('withTimeout', () => {
  it('gives the value when it comes first', async () => {
    await expect(withTimeout(Promise.resolve(7), 1000)).resolves.toBe(7);
  });
  it('rejects with a TimeoutError that says how long it waited', async () => {
    const never = new Promise<never>(() => {});
    const err = await withTimeout(never, 20).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect((err as Error).message).toBe('no answer within 20ms');
  });
  it('settles with onTimeout when given', async () => {
    await expect(withTimeout(new Promise<never>(() => {}), 10, () => 'late')).resolves.toBe('late');
  });
});

describe('sleep', () => {
  it('ends at once when aborted', async () => {
    const ac = new AbortController();
    const p = sleep(60_000, ac.signal);
    ac.abort();
    await p;
  });
});

describe('setLongTimeout', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('does not fire early for a delay above 2^31-1 ms (Node would fire it after 1 ms)', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const warn = vi.spyOn(process, 'emitWarning');
    const fn = vi.fn();
    const thirtyDays = 30 * 86_400_000;
    expect(thirtyDays).toBeGreaterThan(MAX_TIMER_MS);
    const t = setLongTimeout(fn, thirtyDays);
    vi.advanceTimersByTime(1000);
    expect(fn).not.toHaveBeenCalled();
    vi.advanceTimersByTime(MAX_TIMER_MS);
    expect(fn).not.toHaveBeenCalled();
    expect(t.pending).toBe(true);
    vi.advanceTimersByTime(thirtyDays - MAX_TIMER_MS - 1000 - 1);
    expect(fn).not.toHaveBeenCalled();
    vi.advanceTimersByTime(2);
    expect(fn).toHaveBeenCalledTimes(1);
    expect(t.pending).toBe(false);
    expect(warn).not.toHaveBeenCalled();
  });

  it('clear stops it', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const fn = vi.fn();
    const t = setLongTimeout(fn, 3 * MAX_TIMER_MS);
    vi.advanceTimersByTime(MAX_TIMER_MS + 5);
    t.clear();
    vi.advanceTimersByTime(3 * MAX_TIMER_MS);
    expect(fn).not.toHaveBeenCalled();
  });

  it('fires a short delay like setTimeout, and a negative or NaN one at once', async () => {
    await new Promise<void>((resolve) => setLongTimeout(resolve, 5));
    await new Promise<void>((resolve) => setLongTimeout(resolve, Number.NEGATIVE_INFINITY));
    await new Promise<void>((resolve) => setLongTimeout(resolve, -5));
    await new Promise<void>((resolve) => setLongTimeout(resolve, Number.NaN));
  });

  it('never fires an infinite delay', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const fn = vi.fn();
    const t = setLongTimeout(fn, Number.POSITIVE_INFINITY);
    vi.advanceTimersByTime(10 * MAX_TIMER_MS);
    expect(fn).not.toHaveBeenCalled();
    expect(t.pending).toBe(true);
  });

  it('setLongInterval repeats every period, even one past 2^31-1 ms, until cleared', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const fn = vi.fn();
    const period = 40 * 86_400_000;
    const t = setLongInterval(fn, period);
    vi.advanceTimersByTime(period - 1);
    expect(fn).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(fn).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(period);
    expect(fn).toHaveBeenCalledTimes(2);
    t.clear();
    vi.advanceTimersByTime(3 * period);
    expect(fn).toHaveBeenCalledTimes(2);
  });
});
