/**
 * The rollout semaphore on Consul, by the recipe of Consul's "Semaphore" guide (sessions and one `.lock` key),
 * with a queue added for fairness.
 *
 * - The contender's lease is a Consul session (TTL, `Behavior: delete`, renewed by the backend at half its TTL).
 *   It writes a contender key `<prefix><session>` with `?acquire=<session>`: the key lives exactly as long as
 *   the session, so a tend that dies or loses Consul for longer than the TTL loses it, and with it its slot.
 * - `<prefix>.lock` holds `{"Limit": max, "Holders": [session, …]}` and is only ever changed with check-and-set
 *   (`?cas=<ModifyIndex>`, 0 to create it): two contenders that read the same lock cannot both add themselves.
 *   A holder is counted only while its contender key is still held by its session; the others are pruned by
 *   whoever writes the lock next, which is how a dead holder's slot comes free.
 * - Fair: the guide lets any waiter grab a free slot. Here the waiters (live contenders not holding) queue by the
 *   CreateIndex of their contender keys, and only the first `free` of them may take one; a late comer cannot
 *   overtake, and nobody starves.
 * - Waiting is a watch on the prefix (the backend's blocking queries); every change there means a new look.
 * - Limits that disagree (a manifest changed while a rollout runs): while others hold slots, the smaller of the
 *   lock's Limit and ours bounds it, so neither side is ever exceeded; the next write sets ours.
 *
 * One contender per session and prefix: the contender key is named after the session.
 *
 * Tested against a stateful double of Consul's HTTP API (test/helpers/consul-double.ts), not a Consul server.
 */
import { type ConsulEntry, type ConsulSessions, type KvBackend, KvError } from '../kv/index.js';
import { backoffDelay, sleep } from '../time/index.js';
import { type AcquireOptions, checkOptions, SemaphoreError, type Slot } from './semaphore-types.js';

export const LOCK_KEY = '.lock';

interface LockValue {
  Limit: number;
  Holders: string[];
}

/** The `.lock` key's value, checked: a malformed one is an error that says how to clear it. */
function parseLock(entry: ConsulEntry | undefined): LockValue | undefined {
  if (entry === undefined) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(entry.value);
  } catch {
    v = undefined;
  }
  const o = v as Partial<LockValue> | undefined;
  if (
    typeof o !== 'object' ||
    o === null ||
    !Number.isSafeInteger(o.Limit) ||
    !Array.isArray(o.Holders) ||
    !o.Holders.every((h) => typeof h === 'string')
  ) {
    throw new SemaphoreError(
      `the semaphore key ${entry.key} does not hold {"Limit": n, "Holders": [...]}; ` +
        'delete it (no slot is lost: holders are known by their contender keys) and try again',
    );
  }
  return { Limit: o.Limit as number, Holders: o.Holders as string[] };
}

interface State {
  lockEntry: ConsulEntry | undefined;
  lock: LockValue | undefined;
  /** live contenders (their key still held by a session), by session */
  live: Map<string, ConsulEntry>;
  /** the lock's holders that are still live */
  holders: string[];
}

async function readState(api: ConsulSessions, prefix: string): Promise<State> {
  const entries = await api.entries(prefix);
  const lockKey = prefix + LOCK_KEY;
  const lockEntry = entries.find((e) => e.key === lockKey);
  const live = new Map<string, ConsulEntry>();
  for (const e of entries) {
    // a contender key is `<prefix><its session>`; one no session holds belongs to a contender that is gone
    if (e.key === lockKey || e.session === undefined || e.key !== prefix + e.session) continue;
    live.set(e.session, e);
  }
  const lock = parseLock(lockEntry);
  const holders = (lock?.Holders ?? []).filter((h, i, all) => live.has(h) && all.indexOf(h) === i);
  return { lockEntry, lock, live, holders };
}

/** Writes the lock with check-and-set; false when someone changed it since it was read. */
function writeLock(api: ConsulSessions, prefix: string, state: State, lock: LockValue): Promise<boolean> {
  return api.cas(prefix + LOCK_KEY, JSON.stringify(lock), state.lockEntry?.modifyIndex ?? 0);
}

export async function acquireConsulSlot(kv: KvBackend, opts: AcquireOptions): Promise<Slot> {
  checkOptions(opts);
  const api = kv.sessions;
  if (api === undefined) throw new SemaphoreError(`${kv.url}: this store has no Consul sessions`);
  const { prefix, max, lease } = opts;
  const session = lease.id;
  const key = prefix + session;

  let released = false;
  const release = async () => {
    if (released) return;
    released = true;
    // take ourselves out of the holders (a few tries: others may be writing the lock too), then drop the key;
    // the key alone would do (holders without one are pruned), the lock write frees the slot for readers at once
    try {
      for (let tries = 0; tries < 5; tries++) {
        const state = await readState(api, prefix);
        if (!state.lock?.Holders.includes(session)) break;
        const next = { Limit: state.lock.Limit, Holders: state.holders.filter((h) => h !== session) };
        if (await writeLock(api, prefix, state, next)) break;
      }
    } finally {
      // even when the lock cannot be read or written: without its key this contender counts for nobody
      await kv.delete(key);
    }
  };

  // watch first, then write and read: a change between the two is still reported (no gap)
  let wake: (() => void) | undefined;
  let pending = false;
  const watcher = kv.watch({ keys: [], prefixes: [prefix] }, () => {
    pending = true;
    wake?.();
  });
  let wrote = false;
  try {
    await watcher.synced();
    const body = JSON.stringify({ holder: opts.holder, at: new Date().toISOString() });
    if (!(await api.acquire(key, body, lease))) {
      throw new SemaphoreError(
        `Consul refused the contender key ${key} (is session ${session} still valid?)`,
      );
    }
    wrote = true;
    let outage = 0;
    for (;;) {
      if (opts.signal?.aborted) throw new SemaphoreError('gave up waiting for a slot');
      pending = false;
      let state: State;
      try {
        state = await readState(api, prefix);
        outage = 0;
      } catch (err) {
        // Consul unreachable or without a leader: keep the place in the queue (the session outlives a short
        // outage) and look again; a session lost meanwhile shows as a vanished contender key on return
        if (!(err instanceof KvError && err.code === 'unavailable')) throw err;
        await sleep(backoffDelay(outage++, { initialMs: 250, maxMs: 5_000, jitter: 'spread' }), opts.signal);
        continue;
      }
      const self = state.live.get(session);
      if (self === undefined) {
        throw new SemaphoreError(`the contender key ${key} vanished (its session was lost)`);
      }
      const slot: Slot = { key, revision: self.createIndex, release };
      // already in (a write whose answer was lost, then retried): keep it
      if (state.holders.includes(session)) return slot;
      const limit = state.holders.length > 0 && state.lock ? Math.min(state.lock.Limit, max) : max;
      const free = limit - state.holders.length;
      const waiters = [...state.live.values()]
        .filter((e) => e.session !== undefined && !state.holders.includes(e.session))
        .sort((a, b) => a.createIndex - b.createIndex || a.key.localeCompare(b.key));
      const place = waiters.findIndex((e) => e.session === session);
      if (place >= 0 && place < free) {
        const next = { Limit: max, Holders: [...state.holders, session] };
        // refused: someone wrote the lock meanwhile; unanswered: it may have been written. Either way look again
        // (a write that went through shows as this session among the holders)
        if (await writeLock(api, prefix, state, next).catch(() => false)) return slot;
        continue;
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
    if (wrote) await release().catch(() => {});
    throw err;
  } finally {
    await watcher.close();
  }
}
