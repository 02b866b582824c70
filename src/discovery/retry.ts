/**
 * A refresh that runs one at a time, coalesces requests made while it runs, and retries with backoff after a
 * failure: what every registry's watch needs around its "read the list again".
 */
import { backoffDelay } from '../time/index.js';
export interface Refresher {
  /** asks for a refresh (now, or right after the one running) */
  kick(): void;
  close(): void;
}

export function createRefresher(
  read: () => Promise<void>,
  opts: { initialMs?: number; maxMs?: number; onError?: (err: unknown) => void } = {},
): Refresher {
  const initial = opts.initialMs ?? 500;
  const max = opts.maxMs ?? 10_000;
  let running = false;
  let again = false;
  let closed = false;
  let attempt = 0;
  let retry: NodeJS.Timeout | undefined;

  const run = async () => {
    if (closed) return;
    if (running) {
      again = true;
      return;
    }
    running = true;
    clearTimeout(retry);
    retry = undefined;
    try {
      do {
        again = false;
        await read();
        attempt = 0;
      } while (again && !closed);
    } catch (err) {
      opts.onError?.(err);
      if (!closed) {
        retry = setTimeout(
          () => void run(),
          backoffDelay(attempt++, { initialMs: initial, maxMs: max, jitter: 'spread' }),
        );
      }
    } finally {
      running = false;
    }
  };
  return {
    kick: () => void run(),
    close() {
      closed = true;
      clearTimeout(retry);
    },
  };
}
