import { backoffDelay as nextDelay } from '../time/index.js';
import type { KvChange, KvStatus, KvTiming, WatchSpec } from './types.js';

export type KvErrorCode = 'unavailable' | 'invalid' | 'denied' | 'conflict' | 'closed' | 'failed';

/** Every rejection of a backend is a KvError whose message starts with the (redacted) URL of the store. */
export class KvError extends Error {
  readonly url: string;
  readonly code: KvErrorCode;
  constructor(url: string, code: KvErrorCode, message: string, options?: { cause?: unknown }) {
    super(`${url}: ${message}`, options);
    this.name = 'KvError';
    this.url = url;
    this.code = code;
  }
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

export interface StatusTracker {
  get(): KvStatus;
  set(connected: boolean, error?: string): void;
  on(cb: (s: KvStatus) => void): () => void;
}

export function createStatusTracker(connected: boolean): StatusTracker {
  let current: KvStatus = { connected, since: Date.now() };
  const subscribers = new Set<(s: KvStatus) => void>();
  return {
    get: () => current,
    set(connected, error) {
      if (connected === current.connected && error === current.error) return;
      const since = connected === current.connected ? current.since : Date.now();
      current = error === undefined ? { connected, since } : { connected, error, since };
      for (const cb of [...subscribers]) {
        try {
          cb(current);
        } catch {
          // a subscriber's bug must not break the backend's own bookkeeping
        }
      }
    },
    on(cb) {
      subscribers.add(cb);
      return () => {
        subscribers.delete(cb);
      };
    },
  };
}

/** Exponential backoff with ±20 % jitter, so that many hosts restarting together do not retry in step. */
export function backoffDelay(attempt: number, timing: KvTiming): number {
  return nextDelay(attempt, {
    initialMs: timing.backoffInitialMs,
    maxMs: timing.backoffMaxMs,
    jitter: 'spread',
  });
}

/** Code-unit order, the same in every backend (etcd and Consul sort by bytes, which agrees for ASCII keys). */
export function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function normalizeSpec(spec: WatchSpec): WatchSpec {
  return {
    keys: [...new Set(spec.keys)].sort(compareKeys),
    prefixes: [...new Set(spec.prefixes)].sort(compareKeys),
  };
}

export function specCovers(spec: WatchSpec, key: string): boolean {
  return spec.keys.includes(key) || spec.prefixes.some((p) => key.startsWith(p));
}

/** Differences between two snapshots, restricted to keys for which `relevant` is true. */
export function diffMaps(
  before: ReadonlyMap<string, string>,
  after: ReadonlyMap<string, string>,
  relevant: (key: string) => boolean,
): KvChange[] {
  const changes: KvChange[] = [];
  for (const [key, value] of after) {
    if (relevant(key) && before.get(key) !== value) changes.push({ key, value });
  }
  for (const key of before.keys()) {
    if (relevant(key) && !after.has(key)) changes.push({ key, value: undefined });
  }
  return changes.sort((a, b) => compareKeys(a.key, b.key));
}

/** Calls a user callback without letting its exception unwind into a backend's I/O loop. */
export function deliver(onChange: (changes: KvChange[]) => void, changes: KvChange[]): void {
  if (changes.length === 0) return;
  try {
    onChange(changes);
  } catch (err) {
    // rethrown on a clean stack: visible as an uncaught exception, yet the watch loop survives
    queueMicrotask(() => {
      throw err;
    });
  }
}

/**
 * Resolves promises handed out by Watcher.synced(); shared by the backends so their semantics agree.
 */
export function createSyncGate(): { wait(): Promise<void>; check(isSynced: boolean): void } {
  let waiters: Array<() => void> = [];
  let synced = false;
  return {
    wait() {
      if (synced) return Promise.resolve();
      return new Promise((resolve) => waiters.push(resolve));
    },
    check(isSynced) {
      synced = isSynced;
      if (!isSynced) return;
      const pending = waiters;
      waiters = [];
      for (const resolve of pending) resolve();
    },
  };
}
