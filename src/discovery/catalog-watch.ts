/**
 * Following a catalog function's answer during a run (`tend up`'s render loop), per registry: Consul through
 * its blocking queries (consul-catalog.ts); tend's own registries (file, etcd) by following every service's
 * instances and deriving `nodes`, `node`, `datacenters` from them. A request a registry cannot answer at all
 * throws CatalogUnsupported at once, so the template fails with why instead of waiting.
 */
import { hostname } from 'node:os';
import type { ConsulKvConfig } from '../kv/index.js';
import { type CatalogRequest, catalogFromInstances } from '../template/index.js';
import { consulCatalog } from './consul-catalog.js';
import type { Registry, ServiceInstance, Watch } from './types.js';

export type CatalogWatcher = (req: CatalogRequest, onChange: (answer: unknown) => void) => Watch;

/** Gives a Consul registry its catalog watcher (the registry's own HTTP client stays its own). */
export function withConsulCatalog(registry: Registry, config: ConsulKvConfig): Registry {
  const catalog = consulCatalog(config);
  return {
    ...registry,
    watchCatalogRequest: (req, onChange) => catalog.watch(req, onChange),
    async close() {
      catalog.close();
      await registry.close();
    },
  };
}

/** The watcher of a registry: its own (Consul), else derived from the instances it holds. */
export function catalogWatcher(registry: Registry, localNode = hostname()): CatalogWatcher {
  if (registry.watchCatalogRequest) return registry.watchCatalogRequest;
  const where = `the ${registry.kind} registry (${registry.where})`;
  return (req, onChange) => {
    // throws for what needs Consul; answers nodes/node/datacenters
    catalogFromInstances([], req, { localNode, where });
    const lists = new Map<string, ServiceInstance[] | undefined>();
    const watches = new Map<string, Watch>();
    let names: string[] | undefined;
    let last: string | undefined;
    let closed = false;
    const emit = () => {
      if (closed || names === undefined || names.some((n) => lists.get(n) === undefined)) return;
      const all = names.flatMap((n) => lists.get(n) ?? []);
      const answer = catalogFromInstances(all, req, { localNode, where });
      const text = JSON.stringify(answer);
      if (text === last) return;
      last = text;
      onChange(answer);
    };
    const catalogWatch = registry.watchCatalog((list) => {
      if (closed) return;
      names = list.map((c) => c.Name);
      for (const [n, w] of watches) {
        if (names.includes(n)) continue;
        w.close();
        watches.delete(n);
        lists.delete(n);
      }
      for (const n of names) {
        if (watches.has(n)) continue;
        lists.set(n, undefined);
        watches.set(
          n,
          registry.watch(n, (instances) => {
            lists.set(n, instances);
            emit();
          }),
        );
      }
      emit();
    });
    return {
      close() {
        closed = true;
        catalogWatch.close();
        for (const w of watches.values()) w.close();
        watches.clear();
      },
    };
  };
}
