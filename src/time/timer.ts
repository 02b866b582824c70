/**
 * Timers for durations a user writes. Node's setTimeout takes at most 2^31-1 ms (24.8 days): a larger delay
 * fires after 1 ms, with only a warning, so a `ttl: 30d` would spin. `setLongTimeout` waits in steps that fit
 * and fires once the whole delay has passed on the monotonic clock.
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
  const due = monotonicMs() + Math.max(0, Number.isFinite(ms) ? ms : MAX_TIMER_MS);
  let timer: NodeJS.Timeout | undefined;
  let unref = false;
  let pending = true;
  const arm = () => {
    const left = due - monotonicMs();
    if (left <= 0 && timer !== undefined) {
      pending = false;
      fn();
      return;
    }
    // At least 1 ms more after the first arm: a step that ends a hair early re-arms instead of firing early.
    timer = setTimeout(arm, Math.min(MAX_TIMER_MS, Math.max(timer === undefined ? 0 : 1, Math.ceil(left))));
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
