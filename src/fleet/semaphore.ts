/**
 * A counting semaphore kept in the KV store, for rollouts (docs/fleet.md, "Planned"): at most `max` holders at a
 * time across every tend sharing the store, first come first served. NOT wired into `tend up` yet and not in the
 * manifest: the rollout that will use it (take a slot, apply the change, wait for ready, give it back) is still
 * to be built.
 *
 * The recipe (etcd's queue, on the plain KvBackend): each contender puts one key under `prefix`, bound to its
 * lease, and never rewrites it, so the key's modify revision is its creation revision. The holders are the `max`
 * keys with the lowest revisions; the others watch the prefix and look again on every change there. Releasing
 * deletes the key; a contender that dies or loses the store loses its key when its lease expires, and the next
 * in line moves up. Needs the store's revisions: etcd (Consul's ModifyIndex would do as well; its session
 * semantics are not wired yet); the file store has none and is refused.
 */
import { randomBytes } from 'node:crypto';
import type { KvBackend, Lease } from '../kv/index.js';

export interface Slot {
  /** the key that holds the slot */
  readonly key: string;
  /** its revision: the place in the queue */
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
  /** every key of this contender is bound to it: its expiry frees the slot */
  lease: Lease;
  /** who holds it, for people reading the store (`tend fleet` later) */
  holder: string;
  /** gives up waiting: the key is deleted and acquire rejects */
  signal?: AbortSignal;
}

/**
 * Why this store holds no semaphore, or undefined when it does. Stores with a semaphore behind `acquireSlot`:
 * etcd (this file). The rollout refuses to start on the others (src/fleet/rollout.ts, `tend check`).
 */
export function semaphoreUnsupported(kind: KvBackend['kind']): string | undefined {
  return kind === 'etcd' ? undefined : `a ${kind} store holds no semaphore: not yet (etcd only)`;
}

/** Waits for a slot; resolves once held. Rejects if the key vanishes while waiting (its lease was lost). */
export async function acquireSlot(kv: KvBackend, opts: AcquireOptions): Promise<Slot> {
  const unsupported = semaphoreUnsupported(kv.kind);
  if (unsupported) throw new SemaphoreError(unsupported);
  if (!opts.prefix.endsWith('/')) throw new SemaphoreError(`prefix ${opts.prefix} must end with /`);
  if (!(opts.max >= 1)) throw new SemaphoreError(`max must be at least 1, not ${opts.max}`);
  const key = `${opts.prefix}${opts.holder.replace(/\//g, '_')}-${randomBytes(4).toString('hex')}`;
  let released = false;
  const release = async () => {
    if (released) return;
    released = true;
    await kv.delete(key);
  };

  // watch first, then write and read: a change between the two is still reported (no gap)
  let wake: (() => void) | undefined;
  let pending = false;
  const watcher = kv.watch({ keys: [], prefixes: [opts.prefix] }, () => {
    pending = true;
    wake?.();
  });
  try {
    await watcher.synced();
    await kv.put(key, JSON.stringify({ holder: opts.holder, at: new Date().toISOString() }), {
      lease: opts.lease,
    });
    for (;;) {
      if (opts.signal?.aborted) throw new SemaphoreError('gave up waiting for a slot');
      pending = false;
      const queue = (await kv.list(opts.prefix)).filter((p) => p.modifyIndex !== undefined);
      queue.sort((a, b) => (a.modifyIndex ?? 0) - (b.modifyIndex ?? 0));
      const at = queue.findIndex((p) => p.key === key);
      if (at < 0) throw new SemaphoreError(`the queue key ${key} vanished (its lease was lost)`);
      if (at < opts.max) {
        const revision = queue[at]?.modifyIndex ?? 0;
        return { key, revision, release };
      }
      if (!pending) {
        await new Promise<void>((resolve) => {
          wake = resolve;
          opts.signal?.addEventListener('abort', () => resolve(), { once: true });
        });
        wake = undefined;
      }
    }
  } catch (err) {
    await release().catch(() => {});
    throw err;
  } finally {
    await watcher.close();
  }
}
