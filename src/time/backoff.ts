/**
 * The one backoff rule: the delay doubles from `initialMs` up to `maxMs`; the jitter spreads many retries that
 * failed together (services of one host, hosts of one fleet) so they do not retry in step.
 */
export type Jitter =
  /** a delay in [d/2, d]: never longer than the plain delay (service restarts) */
  | 'half'
  /** a delay in [0.8·d, 1.2·d] (clients of a store or an endpoint) */
  | 'spread'
  /** exactly d */
  | 'none';

export interface BackoffRule {
  initialMs: number;
  maxMs: number;
  jitter: Jitter;
}

/** Above this many doublings every sane `maxMs` is reached; it keeps `2 ** attempt` finite. */
const MAX_DOUBLINGS = 30;

/**
 * The delay before retry number `attempt` (0 for the first retry). `random` in [0, 1) is a parameter so a pure
 * caller (the service machine) can pass its own and stay deterministic in tests.
 */
export function backoffDelay(attempt: number, rule: BackoffRule, random: number = Math.random()): number {
  const d = Math.min(rule.maxMs, rule.initialMs * 2 ** Math.min(Math.max(0, attempt), MAX_DOUBLINGS));
  return jittered(d, rule.jitter, random);
}

/** `ms` with the jitter applied (for a delay that is not a plain doubling, e.g. one a server asked for). */
export function jittered(ms: number, jitter: Jitter, random: number = Math.random()): number {
  switch (jitter) {
    case 'half':
      return Math.round(ms / 2 + (ms / 2) * random);
    case 'spread':
      return Math.round(ms * (0.8 + random * 0.4));
    case 'none':
      return ms;
    default: {
      const never: never = jitter;
      throw new Error(`unknown jitter ${String(never)}`);
    }
  }
}
