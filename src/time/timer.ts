/**
 * Timers for durations a user writes. Node's setTimeout takes at most 2^31-1 ms (24.8 days): a larger delay
 * fires after 1 ms, with only a warning, so a `ttl: 30d` would spin. `setLongTimeout` waits in steps that fit
 * and fires once all of them have passed.
 */
/** The longest delay Node's setTimeout keeps. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** Milliseconds on a clock that never goes back (unlike Date.now() when the wall clock is set). */
export function monotonicMs(): number {
  // the global, so that a test's fake clock moves it too
  return globalThis.performance.now();
}

export interface LongTimer {
  clear(): void;
  /** lets the process end while only this timer is pending (like Timeout.unref); returns the timer */
  unref(): LongTimer;
  /** whether it is still pending */
  readonly pending: boolean;
}

export function setLongTimeout(fn: () => void, ms: number): LongTimer {
  // NaN and negative delays mean now, as with setTimeout; Infinity means never (setTimeout would fire at once).
  // Counted in steps rather than read from a clock, so a delay that fits is exactly one setTimeout (and tests
  // that fake setTimeout alone see the same timer as before).
  let left = ms > 0 ? ms : 0;
  let timer: NodeJS.Timeout | undefined;
  let unref = false;
  let pending = true;
  const arm = () => {
    if (left === Number.POSITIVE_INFINITY) return;
    const step = Math.min(left, MAX_TIMER_MS);
    left -= step;
    timer = setTimeout(() => {
      if (left > 0) return arm();
      pending = false;
      fn();
    }, step);
    if (unref) timer.unref();
  };
  arm();
  const handle: LongTimer = {
    clear() {
      pending = false;
      clearTimeout(timer);
    },
    unref() {
      unref = true;
      timer?.unref();
      return handle;
    },
    get pending() {
      return pending;
    },
  };
  return handle;
}

/** `fn` every `ms` (at least 1 ms), however long `ms` is: setInterval would run it every millisecond past 24.8 days. */
export function setLongInterval(fn: () => void, ms: number): LongTimer {
  let current: LongTimer | undefined;
  let unref = false;
  let stopped = false;
  const period = ms >= 1 ? ms : 1;
  const arm = () => {
    current = setLongTimeout(() => {
      arm();
      fn();
    }, period);
    if (unref) current.unref();
  };
  arm();
  const handle: LongTimer = {
    clear() {
      stopped = true;
      current?.clear();
    },
    unref() {
      unref = true;
      current?.unref();
      return handle;
    },
    get pending() {
      return !stopped;
    },
  };
  return handle;
}

/** Resolves after `ms`, or at once when `signal` aborts (never rejects: the caller checks the signal). */
export function sleep(ms: number, signal?: AbortSignal, opts: { unref?: boolean } = {}): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      timer.clear();
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setLongTimeout(done, ms);
    if (opts.unref) timer.unref();
    signal?.addEventListener('abort', done, { once: true });
  });
}
