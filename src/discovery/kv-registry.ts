/**
 * The registry of a KV store with real leases (etcd): one key per instance, `services/<name>/<id>` under the
 * store's own prefix, holding the instance's JSON document and bound to a lease of the registration's TTL that
 * the backend keeps alive. If tend dies, the lease expires and etcd deletes the key: nothing else to clean up.
 * Watches are the store's own prefix watches; each change re-reads the (small) prefix.
 */
import type { KvBackend, Lease } from '../kv/index.js';
import {
  catalogOf,
  instanceOf,
  parseStored,
  type StoredInstance,
  sameList,
  sortInstances,
  storedOf,
} from './record.js';
import { createRefresher } from './retry.js';
import type {
  CatalogService,
  InstanceStatus,
  Publication,
  Registration,
  Registry,
  ServiceInstance,
  Watch,
} from './types.js';

export const SERVICES_PREFIX = 'services/';

export function kvRegistry(kv: KvBackend, opts: { retryMs?: number } = {}): Registry {
  const closers = new Set<() => void>();

  const keyOf = (name: string, id: string) => `${SERVICES_PREFIX}${name}/${id}`;

  /** Documents under `prefix`, each at `services/<name>/<id>` exactly (anything else there is not ours). */
  const read = async (prefix: string): Promise<StoredInstance[]> => {
    const pairs = await kv.list(prefix);
    const docs: StoredInstance[] = [];
    for (const p of pairs) {
      const rest = p.key.slice(SERVICES_PREFIX.length).split('/');
      if (rest.length !== 2) continue;
      const doc = parseStored(p.value);
      if (doc && doc.Name === rest[0]) docs.push(doc);
    }
    return docs;
  };

  const instances = async (name: string) =>
    sortInstances((await read(`${SERVICES_PREFIX}${name}/`)).map(instanceOf));

  const follow = <T>(prefix: string, load: () => Promise<T[]>, onChange: (list: T[]) => void): Watch => {
    let last: T[] | undefined;
    let closed = false;
    const refresher = createRefresher(
      async () => {
        const list = await load();
        if (closed || sameList(last, list)) return;
        last = list;
        onChange(list);
      },
      { initialMs: opts.retryMs },
    );
    const watcher = kv.watch({ keys: [], prefixes: [prefix] }, () => refresher.kick());
    // "watch, await synced(), then read" leaves no gap between the first list and the changes
    void watcher.synced().then(() => refresher.kick());
    const close = () => {
      if (closed) return;
      closed = true;
      refresher.close();
      void watcher.close();
      closers.delete(close);
    };
    closers.add(close);
    return { close };
  };

  return {
    kind: kv.kind,
    where: `${kv.url} ${SERVICES_PREFIX}`,
    async publish(reg: Registration): Promise<Publication> {
      const lease: Lease = await kv.grantLease(reg.ttlMs);
      const key = keyOf(reg.name, reg.id);
      let current = reg;
      let withdrawn = false;
      const write = () => kv.put(key, JSON.stringify(storedOf(current)), { lease });
      try {
        await write();
      } catch (err) {
        await lease.revoke().catch(() => {});
        throw err;
      }
      return {
        async update(status: InstanceStatus, output?: string) {
          current = { ...current, status, output };
          if (!withdrawn) await write();
        },
        async withdraw() {
          withdrawn = true;
          try {
            // revoking deletes the key with the lease, in one step
            await lease.revoke();
          } catch (err) {
            await kv.delete(key).catch(() => {
              throw err;
            });
          }
        },
        onLost(cb) {
          lease.onLost(() => {
            if (!withdrawn) cb();
          });
        },
      };
    },
    instances,
    watch: (name, onChange) => {
      const prefix = `${SERVICES_PREFIX}${name}/`;
      return follow<ServiceInstance>(prefix, () => instances(name), onChange);
    },
    catalog: async () => catalogOf((await read(SERVICES_PREFIX)).map(instanceOf)),
    watchCatalog: (onChange) =>
      follow<CatalogService>(
        SERVICES_PREFIX,
        async () => catalogOf((await read(SERVICES_PREFIX)).map(instanceOf)),
        onChange,
      ),
    async close() {
      for (const c of [...closers]) c();
    },
  };
}
