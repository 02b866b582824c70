/**
 * Reading the configured registry from outside a run (`tend render`, `tend template`): the instances of a
 * service, the service catalog, and consul-template's catalog functions (`nodes`, `node`, `datacenters`, and on
 * Consul also `connect`, `caRoots`, `caLeaf`, `partitions`, `peerings`, `exportedServices`, `importedServices`).
 *
 * Consul reads its HTTP API (consul-catalog.ts). tend's own registries (file, etcd) hold instances only, so the
 * catalog is derived from them: `nodes` are the hosts that registered instances, `node` is a host (this one
 * without a name) with its instances as its services, `datacenters` is empty (instances carry no datacenter);
 * the rest needs Consul and says so, naming the backend.
 */
import { hostname } from 'node:os';
import { parseKvUrl } from '../kv/index.js';
import {
  type CatalogOptions,
  type CatalogRequest,
  type CatalogService,
  CatalogUnsupported,
  catalogFromInstances,
  type ServiceInstance,
  type ServiceOptions,
  unsupportedQueryOptions,
} from '../template/index.js';
import { type ConsulCatalogTiming, consulCatalog } from './consul-catalog.js';
import { type OpenRegistryOptions, openRegistry } from './discovery.js';
import type { Registry } from './types.js';

export interface CatalogReader {
  /** for messages: `file registry <dir>`, `etcd …`, `consul agent …` */
  readonly where: string;
  /** every instance of a service, any status (the engine filters); another datacenter reads as none */
  instances(name: string, opts: ServiceOptions): Promise<ServiceInstance[]>;
  services(dc: string, opts: CatalogOptions): Promise<CatalogService[]>;
  /** the answer of a catalog function; CatalogUnsupported when the backend has no such thing */
  catalog(req: CatalogRequest): Promise<unknown>;
  close(): Promise<void>;
}

export interface OpenCatalogOptions extends OpenRegistryOptions {
  /** the host `node` without a name reads on tend's own registries (default: this host's name) */
  localNode?: string;
  consulCatalogTiming?: Partial<ConsulCatalogTiming>;
}

function refuse(what: string, registry: Registry, opts: ServiceOptions | CatalogOptions): void {
  const bad = unsupportedQueryOptions(opts);
  if (bad.length === 0) return;
  throw new CatalogUnsupported(
    `${what}: the ${registry.kind} registry (${registry.where}) cannot honour ${bad.join(', ')}; remove it from the query (docs/templates.md)`,
  );
}

export function openCatalogReader(opts: OpenCatalogOptions): CatalogReader {
  const registry = openRegistry(opts);
  const config = parseKvUrl(opts.kvUrl, opts.env ?? process.env);
  const consul =
    registry.kind === 'consul' && config.kind === 'consul'
      ? consulCatalog(config, { timing: opts.consulCatalogTiming })
      : undefined;
  const where = `the ${registry.kind} registry (${registry.where})`;

  const everyInstance = async (): Promise<ServiceInstance[]> => {
    const names = (await registry.catalog()).map((c) => c.Name);
    return (await Promise.all(names.map((n) => registry.instances(n)))).flat();
  };

  return {
    where,
    async instances(name, o) {
      refuse(`service ${JSON.stringify(name)}`, registry, o);
      if (o.dc) return [];
      return registry.instances(name);
    },
    async services(dc, o) {
      refuse('services', registry, o);
      if (dc) return [];
      return registry.catalog();
    },
    async catalog(req) {
      if (consul) return consul.read(req);
      return catalogFromInstances(await everyInstance(), req, {
        localNode: opts.localNode ?? hostname(),
        where,
      });
    },
    async close() {
      consul?.close();
      await registry.close();
    },
  };
}
