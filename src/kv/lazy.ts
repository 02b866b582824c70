/**
 * A backend whose implementation module loads on first use. The etcd client (gRPC, protobuf) costs about 200 ms
 * and tens of MB to import: `tend up` with the `file` store, `tend status` and `tend template` must not pay it.
 */
import type { ConsulSessions, KvBackend, KvKind, KvNotice, KvStatus, Watcher, WatchSpec } from './types.js';

export function lazyBackend(kind: KvKind, url: string, load: () => Promise<KvBackend>): KvBackend {
  let real: KvBackend | undefined;
  let loading: Promise<KvBackend> | undefined;
  const statusListeners = new Map<(s: KvStatus) => void, () => void>();
  const noticeListeners = new Map<(n: KvNotice) => void, () => void>();
  // as the real backends report before their first contact with the server
  const initial: KvStatus = { connected: false, since: Date.now() };

  const backend = () => {
    loading ??= load().then((b) => {
      real = b;
      for (const cb of statusListeners.keys()) statusListeners.set(cb, b.onStatus(cb));
      for (const cb of noticeListeners.keys()) noticeListeners.set(cb, b.onNotice?.(cb) ?? (() => {}));
      return b;
    });
    return loading;
  };

  // Consul's sessions (the rollout's semaphore, the fleet document) go through the loaded client, like the rest:
  // a backend that hid them would look like a store without sessions.
  const sessionsOf = async (): Promise<ConsulSessions> => {
    const s = (await backend()).sessions;
    if (!s) throw new Error(`internal error: the ${kind} backend has no sessions`);
    return s;
  };
  const sessions: ConsulSessions | undefined =
    kind === 'consul'
      ? {
          entries: async (prefix) => (await sessionsOf()).entries(prefix),
          acquire: async (key, value, lease) => (await sessionsOf()).acquire(key, value, lease),
          release: async (key, lease) => (await sessionsOf()).release(key, lease),
          cas: async (key, value, modifyIndex) => (await sessionsOf()).cas(key, value, modifyIndex),
        }
      : undefined;

  return {
    kind,
    url,
    ...(sessions ? { sessions } : {}),
    get: async (key) => (await backend()).get(key),
    list: async (prefix) => (await backend()).list(prefix),
    put: async (key, value, opts) => (await backend()).put(key, value, opts),
    delete: async (key, opts) => (await backend()).delete(key, opts),
    grantLease: async (ttlMs) => (await backend()).grantLease(ttlMs),
    watch(spec: WatchSpec, onChange): Watcher {
      let latest = spec;
      let inner: Watcher | undefined;
      let closed = false;
      const ready = backend().then((b) => {
        if (!closed) inner = b.watch(latest, onChange);
      });
      return {
        update(next) {
          latest = next;
          inner?.update(next);
        },
        async synced() {
          await ready;
          await inner?.synced();
        },
        async close() {
          closed = true;
          await ready.catch(() => {});
          await inner?.close();
        },
      };
    },
    onNotice(cb) {
      noticeListeners.set(cb, real?.onNotice?.(cb) ?? (() => {}));
      return () => {
        noticeListeners.get(cb)?.();
        noticeListeners.delete(cb);
      };
    },
    onStatus(cb) {
      statusListeners.set(cb, real ? real.onStatus(cb) : () => {});
      return () => {
        statusListeners.get(cb)?.();
        statusListeners.delete(cb);
      };
    },
    status: () => real?.status() ?? initial,
    async close() {
      // Never loaded: nothing to close, and no reason to import the client now.
      if (loading) await (await loading).close();
    },
  };
}
