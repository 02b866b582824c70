/**
 * The shapes every store's semaphore shares (etcd: semaphore.ts, Consul: semaphore-consul.ts, file:
 * semaphore-file.ts). In a file of their own so that the store-specific files and the dispatcher in semaphore.ts
 * can all use them without an import circle; semaphore.ts re-exports them.
 */
import type { Lease } from '../kv/index.js';

export interface Slot {
  /** the key that holds the slot (file stores: the lock file's path) */
  readonly key: string;
  /**
   * its revision: the place in the queue (etcd: the key's revision; Consul: its CreateIndex; file: the ticket,
   * which starts again at 1 when the queue empties)
   */
  readonly revision: number;
  /** gives the slot back (deletes the key); safe to call twice */
  release(): Promise<void>;
}

export class SemaphoreError extends Error {}

export interface AcquireOptions {
  /** the queue's folder, ending with `/` (e.g. `rollout/shop/web/`) */
  prefix: string;
  /** at most this many holders at once (>= 1) */
  max: number;
  /**
   * every key of this contender is bound to it: its expiry frees the slot (Consul: the session; file stores:
   * unused, the lock dies with the process)
   */
  lease: Lease;
  /** who holds it, for people reading the store (`tend fleet` later) */
  holder: string;
  /** gives up waiting: the key is deleted and acquire rejects */
  signal?: AbortSignal;
}

/** The checks every store makes of the options, before it writes anything. */
export function checkOptions(opts: AcquireOptions): void {
  if (!opts.prefix.endsWith('/')) throw new SemaphoreError(`prefix ${opts.prefix} must end with /`);
  if (!(Number.isSafeInteger(opts.max) && opts.max >= 1))
    throw new SemaphoreError(`max must be a whole number of at least 1, not ${opts.max}`);
}
