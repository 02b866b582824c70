/** A promise with a deadline: the one way tend stops waiting for something that may never answer. */
import { formatDuration } from './duration.js';
import { setLongTimeout } from './timer.js';

export class TimeoutError extends Error {
  override name = 'TimeoutError';
  constructor(readonly ms: number) {
    super(`no answer within ${formatDuration(ms)}`);
  }
}

export interface TimeoutOptions {
  /** the timer does not keep the process alive (the promise itself may) */
  unref?: boolean;
}

/**
 * Settles with `p`, or, when `ms` pass first, with `onTimeout()` (or rejects with a TimeoutError when there is
 * none). The work behind `p` goes on: cancel it from `onTimeout` when it can be. The timer is cleared either
 * way, so nothing lingers.
 */
export function withTimeout<T>(
  p: Promise<T>,
  ms: number,
  onTimeout?: undefined,
  opts?: TimeoutOptions,
): Promise<T>;
export function withTimeout<T, U>(
  p: Promise<T>,
  ms: number,
  onTimeout: () => U | Promise<U>,
  opts?: TimeoutOptions,
): Promise<T | U>;
export function withTimeout<T, U>(
  p: Promise<T>,
  ms: number,
  onTimeout?: () => U | Promise<U>,
  opts: TimeoutOptions = {},
): Promise<T | U> {
  return new Promise<T | U>((resolve, reject) => {
    let settled = false;
    const timer = setLongTimeout(() => {
      if (settled) return;
      settled = true;
      if (!onTimeout) return reject(new TimeoutError(ms));
      try {
        resolve(onTimeout());
      } catch (e) {
        reject(e);
      }
    }, ms);
    if (opts.unref) timer.unref();
    p.then(
      (v) => {
        if (settled) return;
        settled = true;
        timer.clear();
        resolve(v);
      },
      (e) => {
        if (settled) return;
        settled = true;
        timer.clear();
        reject(e);
      },
    );
  });
}

/**
 * Waits for `p` to settle, at most `ms`; never rejects. For the bounded waits of a stop (the last
 * withdrawals, a registry closing, templates re-read on SIGHUP): whatever happens, the stop goes on.
 */
export function settleWithin(p: Promise<unknown>, ms: number): Promise<void> {
  return withTimeout(
    p.then(
      () => undefined,
      () => undefined,
    ),
    ms,
    () => undefined,
  );
}
