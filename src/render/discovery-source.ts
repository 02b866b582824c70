/**
 * Discovery as the synchronous `service` / `services` side of a TemplateSource, for the render loop: the first
 * read of a name starts a shared watch and answers `undefined` (not known yet, so the render counts it as
 * missing); every list the watch delivers afterwards is cached and announced through `onChange`, so the loop
 * renders again with it. Instances are returned with every status: the template engine filters status and tag.
 */
import type { Discovery, Watch } from '../runtime/index.js';
import {
  type CatalogService,
  type ServiceInstance,
  type TemplateSource,
  unsupportedQueryOptions,
} from '../template/source.js';

export interface DiscoverySource extends Pick<TemplateSource, 'service' | 'services'> {
  /** stops every watch started by reads */
  close(): void;
}

/**
 * `onChange(dep)` is called with `service:<name>` or `services` when a list read before changed (or first
 * became known). Another datacenter (`@dc`) is not followed: it reads as no instances.
 */
export function discoverySource(discovery: Discovery, onChange: (dep: string) => void): DiscoverySource {
  const watches = new Map<string, Watch>();
  const known = new Map<string, ServiceInstance[]>();
  let catalogWatch: Watch | undefined;
  let catalog: CatalogService[] | undefined;
  let closed = false;

  return {
    service(name, opts) {
      refuseQueryOptions(`service ${JSON.stringify(name)}`, unsupportedQueryOptions(opts));
      if (opts.dc) return [];
      if (!watches.has(name) && !closed) {
        watches.set(
          name,
          discovery.watch(name, (list) => {
            known.set(name, list);
            onChange(`service:${name}`);
          }),
        );
      }
      return known.get(name);
    },
    services(dc, opts) {
      refuseQueryOptions('services', unsupportedQueryOptions(opts ?? {}));
      if (dc) return [];
      if (!catalogWatch && !closed) {
        catalogWatch = discovery.watchServices((list) => {
          catalog = list;
          onChange('services');
        });
      }
      return catalog;
    },
    close() {
      closed = true;
      for (const w of watches.values()) w.close();
      watches.clear();
      catalogWatch?.close();
      catalogWatch = undefined;
    },
  };
}

/** tend's registries have no namespaces, partitions, peers or sameness groups: say so rather than wait forever. */
function refuseQueryOptions(what: string, opts: string[]): void {
  if (opts.length === 0) return;
  throw new Error(
    `${what}: tend's service registries (file, etcd, Consul's default namespace) cannot honour ${opts.join(', ')}; remove it from the query (docs/templates.md)`,
  );
}
