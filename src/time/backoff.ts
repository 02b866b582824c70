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
  switch (rule.jitter) {
    case 'half':
      return Math.round(d / 2 + (d / 2) * random);
    case 'spread':
      return Math.round(d * (0.8 + random * 0.4));
    case 'none':
      return d;
    default: {
      const never: never = rule.jitter;
      throw new Error(`unknown jitter ${String(never)}`);
    }
  }
}
