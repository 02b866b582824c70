/**
 * Discovery as the rest of tend reads it: the registry of the run's KV backend, with watches shared per
 * service name (one upstream watch however many readers), filters for tag and status, and the publishing side
 * used by the registrars.
 */
import { dirname, join, resolve } from 'node:path';
import { type KvBackend, parseKvUrl } from '../kv/index.js';
import type { Discovery, InstanceFilter, Watch } from '../runtime/index.js';
import { type ConsulRegistryTiming, consulRegistry } from './consul-registry.js';
import { fileRegistry } from './file-registry.js';
import { kvRegistry } from './kv-registry.js';
import type { CatalogService, Registry, ServiceInstance } from './types.js';

export type { Discovery, InstanceFilter };

export function applyFilter(list: ServiceInstance[], filter: InstanceFilter = {}): ServiceInstance[] {
  return list.filter(
    (i) => (!filter.passingOnly || i.Status === 'passing') && (!filter.tag || i.Tags.includes(filter.tag)),
  );
}

interface Shared<T> {
  listeners: Set<(list: T[]) => void>;
  last?: T[];
  upstream: Watch;
}

export function createDiscovery(registry: Registry): Discovery {
  const byName = new Map<string, Shared<ServiceInstance>>();
  let catalog: Shared<CatalogService> | undefined;

  const join_ = <T>(shared: Shared<T>, cb: (list: T[]) => void): (() => void) => {
    shared.listeners.add(cb);
    if (shared.last) {
      const known = shared.last;
      queueMicrotask(() => {
        if (shared.listeners.has(cb)) cb(known);
      });
    }
    return () => shared.listeners.delete(cb);
  };

  const fanOut =
    <T>(shared: () => Shared<T> | undefined) =>
    (list: T[]) => {
      const s = shared();
      if (!s) return;
      s.last = list;
      for (const l of [...s.listeners]) {
        try {
          l(list);
        } catch (err) {
          queueMicrotask(() => {
            throw err;
          });
        }
      }
    };

  return {
    kind: registry.kind,
    where: registry.where,
    instances: async (name, filter) => applyFilter(await registry.instances(name), filter),
    watch(name, onChange, filter) {
      let shared = byName.get(name);
      if (!shared) {
        const created: Shared<ServiceInstance> = { listeners: new Set(), upstream: { close() {} } };
        byName.set(name, created);
        created.upstream = registry.watch(
          name,
          fanOut(() => byName.get(name)),
        );
        shared = created;
      }
      let last: ServiceInstance[] | undefined;
      const leave = join_(shared, (all) => {
        const list = applyFilter(all, filter);
        if (last !== undefined && JSON.stringify(last) === JSON.stringify(list)) return;
        last = list;
        onChange(list);
      });
      const s = shared;
      return {
        close() {
          leave();
          if (s.listeners.size === 0 && byName.get(name) === s) {
            byName.delete(name);
            s.upstream.close();
          }
        },
      };
    },
    cached: (name) => byName.get(name)?.last,
    services: () => registry.catalog(),
    watchServices(onChange) {
      if (!catalog) {
        const created: Shared<CatalogService> = { listeners: new Set(), upstream: { close() {} } };
        catalog = created;
        created.upstream = registry.watchCatalog(fanOut(() => catalog));
      }
      const s = catalog;
      const leave = join_(s, onChange);
      return {
        close() {
          leave();
          if (s.listeners.size === 0 && catalog === s) {
            catalog = undefined;
            s.upstream.close();
          }
        },
      };
    },
    publish: (reg) => registry.publish(reg),
    async close() {
      for (const s of byName.values()) s.upstream.close();
      byName.clear();
      catalog?.upstream.close();
      catalog = undefined;
      await registry.close();
    },
  };
}

/**
 * The folder of the `file` backend's registry: `.services/` inside the KV folder, or next to the KV file for
 * a YAML/JSON store. Two tends share it when their `kv:` names the same folder.
 */
export function fileRegistryDir(
  kvUrl: string,
  baseDir: string,
  env: NodeJS.ProcessEnv = process.env,
): string {
  const config = parseKvUrl(kvUrl, env);
  if (config.kind !== 'file') throw new Error(`${kvUrl} is not a file: KV URL`);
  const path = resolve(baseDir, config.path);
  return config.format === 'dir' ? join(path, '.services') : join(dirname(path), '.services');
}

export interface OpenRegistryOptions {
  /** the KV URL as configured (tokens included): Consul's agent API and the file folder are derived from it */
  kvUrl: string;
  /** the run's KV store (etcd's registry uses its leases and watches) */
  kv: KvBackend;
  /** folder relative `file:` paths are resolved against (the manifest's) */
  baseDir: string;
  env?: NodeJS.ProcessEnv;
  consulTiming?: Partial<ConsulRegistryTiming>;
}

export function openRegistry(opts: OpenRegistryOptions): Registry {
  const env = opts.env ?? process.env;
  const config = parseKvUrl(opts.kvUrl, env);
  if (config.kind === 'consul' && opts.kv.kind === 'consul')
    return consulRegistry(config, { timing: opts.consulTiming });
  if (config.kind === 'file' && opts.kv.kind === 'file')
    return fileRegistry(fileRegistryDir(opts.kvUrl, opts.baseDir, env));
  return kvRegistry(opts.kv);
}
