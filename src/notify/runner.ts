import type { TendEvent } from '../events/index.js';
import type { EventKind } from '../manifest/types.js';
import { backoffDelay, jittered, sleep } from '../time/index.js';
import { Ring } from './ring.js';

export type Outcome =
  | { ok: true }
  | {
      ok: false;
      error: string;
      /** worth trying the same events again later (receiver down, timeout, 5xx) */
      retry: boolean;
      /** the receiver asked for this pause (Retry-After) */
      retryAfterMs?: number;
      /** already reported by the sink itself */
      quiet?: boolean;
    };

/** What a sink kind supplies; the runner owns the queue, ordering, retries, counting and reporting. */
export interface Delivery {
  name: string;
  kinds: ReadonlySet<EventKind>;
  capacity: number;
  /** most events handed to one `deliver` call; 1 for sinks that take events one by one */
  batch: number;
  /** exponential backoff for retryable outcomes; absent: nothing is retried */
  backoff?: { initialMs: number; maxMs: number };
  deliver(events: TendEvent[], signal: AbortSignal): Promise<Outcome>;
}

export interface SinkStats {
  sink: string;
  sent: number;
  failed: number;
  dropped: number;
  queued: number;
  /** the last delivery problem, if any; kept after recovery for `tend status` */
  lastError?: string;
}

export interface Runner {
  accepts(kind: EventKind): boolean;
  /** Called from the bus listener: O(1), never throws, never waits. */
  enqueue(event: TendEvent): void;
  stats(): SinkStats;
  /** resolves once everything queued has been handled */
  idle(): Promise<void>;
  /** stops now: in-flight work is cancelled, what is still queued counts as dropped */
  abort(): void;
}

export const REPORT_EVERY_MS = 60_000;

/**
 * A sink's problems reach stderr at most once per REPORT_EVERY_MS, so a dead receiver costs one line a
 * minute instead of one per event; a recovery after a reported problem gets one line too.
 */
export function createReporter(name: string, stderr: NodeJS.WritableStream, everyMs = REPORT_EVERY_MS) {
  let lastAt = Number.NEGATIVE_INFINITY;
  let suppressed = 0;
  let down = false;
  const write = (line: string) => {
    try {
      stderr.write(`[tend] notify ${name}: ${line}\n`);
    } catch {
      // stderr itself is gone: nothing left to tell.
    }
  };
  return {
    problem(message: string) {
      const now = Date.now();
      if (now - lastAt < everyMs) {
        suppressed++;
        return;
      }
      const more = suppressed > 0 ? ` (and ${suppressed} more problems since the last report)` : '';
      write(`${message}${more}`);
      lastAt = now;
      suppressed = 0;
      down = true;
    },
    recovered() {
      if (!down) return;
      down = false;
      write('delivering again');
    },
  };
}

export function createRunner(d: Delivery, stderr: NodeJS.WritableStream): Runner {
  const queue = new Ring<TendEvent>(Math.max(1, Math.floor(d.capacity)));
  const reporter = createReporter(d.name, stderr);
  const controller = new AbortController();
  let sent = 0;
  let failed = 0;
  let dropped = 0;
  let lastError: string | undefined;
  let running = false;
  let waiters: Array<() => void> = [];

  const settle = () => {
    const w = waiters;
    waiters = [];
    for (const f of w) f();
  };

  async function pump() {
    let attempt = 0;
    try {
      while (queue.size > 0 && !controller.signal.aborted) {
        const head = queue.head;
        const items = queue.peek(d.batch);
        let outcome: Outcome;
        try {
          outcome = await d.deliver(items, controller.signal);
        } catch (err) {
          outcome = { ok: false, retry: false, error: (err as Error)?.message ?? String(err) };
        }
        if (controller.signal.aborted) break;
        // Items dropped while we were busy were already counted as dropped; count only the rest.
        const still = Math.max(0, head + items.length - queue.head);
        if (outcome.ok) {
          queue.shift(still);
          sent += still;
          attempt = 0;
          reporter.recovered();
          continue;
        }
        lastError = outcome.error;
        if (outcome.retry && d.backoff) {
          if (!outcome.quiet) reporter.problem(`${outcome.error}; retrying (${queue.size} queued)`);
          // Jitter keeps a fleet of tends from hammering a receiver that just came back, in lockstep.
          const backoff = backoffDelay(attempt++, { ...d.backoff, jitter: 'none' });
          const wait = Math.min(
            Math.max(backoff, outcome.retryAfterMs ?? 0),
            Math.max(d.backoff.maxMs, 60_000),
          );
          // A sink waiting to retry is no reason for tend to stay alive.
          await sleep(jittered(wait, 'spread'), controller.signal, { unref: true });
          continue;
        }
        queue.shift(still);
        failed += still;
        if (!outcome.quiet) reporter.problem(outcome.error);
      }
    } finally {
      running = false;
      settle();
    }
  }

  return {
    accepts: (kind) => d.kinds.has(kind),
    enqueue(event) {
      if (controller.signal.aborted) {
        dropped++;
        return;
      }
      if (queue.push(event)) dropped++;
      if (!running) {
        running = true;
        // Never run sink code inside the bus listener: start on the next microtask.
        queueMicrotask(() => void pump());
      }
    },
    stats: () => ({
      sink: d.name,
      sent,
      failed,
      dropped,
      queued: queue.size,
      ...(lastError ? { lastError } : {}),
    }),
    idle() {
      if (controller.signal.aborted || (!running && queue.size === 0)) return Promise.resolve();
      return new Promise((resolve) => waiters.push(resolve));
    },
    abort() {
      // Does not wait for the delivery in flight: a KV put or a disk write cannot be cancelled, and close
      // has promised to return on time. Whatever was queued, including that one, counts as dropped.
      controller.abort();
      dropped += queue.size;
      queue.shift(queue.size);
      settle();
    },
  };
}
