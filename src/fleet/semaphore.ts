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
 * in line moves up. This is etcd's recipe; Consul and file stores keep their own (semaphore-consul.ts, sessions
 * and a `.lock` key; semaphore-file.ts, lock files), chosen below by the store's kind.
 */
import { randomBytes } from 'node:crypto';
import type { KvBackend } from '../kv/index.js';
import { acquireConsulSlot } from './semaphore-consul.js';
import { acquireFileSlot } from './semaphore-file.js';
import { type AcquireOptions, SemaphoreError, type Slot } from './semaphore-types.js';

export { type AcquireOptions, SemaphoreError, type Slot } from './semaphore-types.js';

/**
 * Why this store holds no semaphore, or undefined when it does. Every store has one behind `acquireSlot` (etcd:
 * this file; Consul: semaphore-consul.ts; file: semaphore-file.ts, one host only). The rollout refuses to start
 * on a store this names (src/fleet/rollout.ts, `tend check`): kept for stores added later.
 */
export function semaphoreUnsupported(kind: KvBackend['kind']): string | undefined {
  switch (kind) {
    case 'etcd':
    case 'consul':
    case 'file':
      return undefined;
    default: {
      const never: never = kind;
      return `a ${String(never)} store holds no semaphore`;
    }
  }
}

/** Waits for a slot; resolves once held. Rejects if the key vanishes while waiting (its lease was lost). */
export async function acquireSlot(kv: KvBackend, opts: AcquireOptions): Promise<Slot> {
  // the other stores keep their own recipes (Consul: sessions and a .lock key; file: lock files)
  if (kv.kind === 'consul') return acquireConsulSlot(kv, opts);
  if (kv.kind === 'file') return acquireFileSlot(kv, opts);
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
