/**
 * Discovery as the synchronous `service` / `services` side of a TemplateSource, for the render loop: the first
 * read of a name starts a shared watch and answers `undefined` (not known yet, so the render counts it as
 * missing); every list the watch delivers afterwards is cached and announced through `onChange`, so the loop
 * renders again with it. Instances are returned with every status: the template engine filters status and tag.
 */
import type { Discovery, Watch } from '../runtime/index.js';
import {
  type CatalogService,
  catalogKey,
  type ServiceInstance,
  type TemplateSource,
  unsupportedQueryOptions,
} from '../template/source.js';

export interface DiscoverySource extends Pick<TemplateSource, 'service' | 'services'> {
  /** the catalog functions (`nodes`, `node`, `connect` …): `catalog:<key>` is announced when an answer changes */
  catalog(req: Parameters<NonNullable<TemplateSource['catalog']>>[0]): unknown;
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
  const answers = new Map<string, { watch?: Watch; value?: unknown; error?: Error }>();

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
    catalog(req) {
      const key = catalogKey(req);
      let a = answers.get(key);
      if (!a && !closed) {
        const entry: { watch?: Watch; value?: unknown; error?: Error } = {};
        answers.set(key, entry);
        a = entry;
        try {
          entry.watch = discovery.watchCatalog(req, (value) => {
            entry.value = value;
            onChange(`catalog:${key}`);
          });
        } catch (e) {
          // the registry has no such thing (Connect outside Consul): the render fails with why, every time
          entry.error = e as Error;
        }
      }
      if (a?.error) throw a.error;
      return a?.value;
    },
    close() {
      closed = true;
      for (const a of answers.values()) a.watch?.close();
      answers.clear();
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
