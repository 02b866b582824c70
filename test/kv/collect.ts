import type { KvChange, KvStatus } from '../../src/kv/index.js';

/** Polls until `check` passes (returns truthy without throwing) or the generous deadline expires. */
export async function eventually<T>(check: () => T, timeoutMs = 10_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const result = check();
      if (result) return result;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

export interface Collector {
  onChange: (changes: KvChange[]) => void;
  batches: KvChange[][];
  /** every change, flattened, in arrival order */
  all(): KvChange[];
  /** the last value reported for each key */
  latest(): Map<string, string | undefined>;
  reset(): void;
  /** waits until the latest reported value of `key` is `value` */
  until(key: string, value: string | undefined, timeoutMs?: number): Promise<void>;
}

export function collect(): Collector {
  const batches: KvChange[][] = [];
  const c: Collector = {
    batches,
    onChange: (changes) => {
      batches.push(changes);
    },
    all: () => batches.flat(),
    latest() {
      const m = new Map<string, string | undefined>();
      for (const ch of c.all()) m.set(ch.key, ch.value);
      return m;
    },
    reset() {
      batches.length = 0;
    },
    async until(key, value, timeoutMs = 10_000) {
      await eventually(
        () => {
          const latest = c.latest();
          return latest.has(key) && latest.get(key) === value;
        },
        timeoutMs,
        `${key} = ${JSON.stringify(value)} (got ${JSON.stringify(c.all())})`,
      );
    },
  };
  return c;
}

export function statusLog(): { log: KvStatus[]; on: (s: KvStatus) => void } {
  const log: KvStatus[] = [];
  return { log, on: (s) => log.push(s) };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
