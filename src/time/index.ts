/**
 * Time, once: the human form of a duration, backoff with jitter, a deadline on a promise, sleep, the monotonic
 * clock, and timers that survive delays longer than Node's 24.8-day limit. Depends on nothing of tend's.
 */
export { type BackoffRule, backoffDelay, type Jitter, jittered } from './backoff.js';
export { formatDuration } from './duration.js';
export { settleWithin, TimeoutError, type TimeoutOptions, withTimeout } from './timeout.js';
export {
  type LongTimer,
  MAX_TIMER_MS,
  monotonicMs,
  setLongInterval,
  setLongTimeout,
  sleep,
} from './timer.js';
