/**
 * Discovery for one-shot renders (`tend render`, `tend template`): a Snapshot that also answers `service`,
 * `services` and the catalog functions (`nodes`, `node`, …) from the configured registry, in the multi-pass
 * model: a read not known yet answers `undefined` (the render counts it missing), `unknown()` names it, `fetch()`
 * reads it, and the template renders again with it. What the backend cannot answer at all (Connect on etcd, a
 * `?ns=` on tend's registries) is kept as an error and thrown at the template, so the render fails with that
 * message; a registry that does not answer makes `fetch` reject, as an unreachable KV store does.
 *
 * The reader is the registry seen from outside a run (src/discovery/catalog.ts, handed over by src/app).
 */
import type {
  CatalogOptions,
  CatalogRequest,
  CatalogService,
  ServiceInstance,
  ServiceOptions,
  TemplateSource,
} from '../template/index.js';
import { CatalogUnsupported, catalogKey } from '../template/index.js';
import type { Snapshot } from './snapshot.js';

/** What the snapshot reads discovery through (src/discovery's CatalogReader has this shape). */
export interface CatalogReader {
  readonly where: string;
  instances(name: string, opts: ServiceOptions): Promise<ServiceInstance[]>;
  services(dc: string, opts: CatalogOptions): Promise<CatalogService[]>;
  catalog(req: CatalogRequest): Promise<unknown>;
}

type Entry = { value: unknown } | { error: Error };

/** `inner` plus the registry: same KV behaviour, discovery answered from `reader`. */
export function withCatalog(inner: Snapshot, reader: CatalogReader): Snapshot {
  const known = new Map<string, Entry>();
  /** reads asked for but not known, by cache key */
  const pending = new Map<string, () => Promise<unknown>>();

  const answer = (key: string, load: () => Promise<unknown>): unknown => {
    const e = known.get(key);
    if (!e) {
      pending.set(key, load);
      return undefined;
    }
    if ('error' in e) throw e.error;
    return e.value;
  };

  return {
    ...inner,
    source(env): TemplateSource {
      const base = inner.source(env);
      return {
        ...base,
        service: (name, o) =>
          answer(`service:${name}|${JSON.stringify(o)}`, () => reader.instances(name, o)) as
            | ServiceInstance[]
            | undefined,
        services: (dc, o) =>
          answer(`services:${dc}|${JSON.stringify(o ?? {})}`, () => reader.services(dc, o ?? {})) as
            | CatalogService[]
            | undefined,
        catalog: (req) => answer(`catalog:${catalogKey(req)}`, () => reader.catalog(req)),
      };
    },
    unknown(missing) {
      const want = inner.unknown(missing);
      const others = [...pending.keys()].filter((k) => !known.has(k));
      return others.length > 0 ? { ...want, others } : want;
    },
    async fetch(want) {
      const others = (want.others ?? []).filter((k) => pending.has(k) && !known.has(k));
      await Promise.all([
        inner.fetch({ keys: want.keys, prefixes: want.prefixes }),
        ...others.map(async (k) => {
          const load = pending.get(k)!;
          try {
            known.set(k, { value: await load() });
          } catch (e) {
            // the backend has no such thing: the template fails with why; anything else is the store's error
            if (!(e instanceof CatalogUnsupported)) {
              throw new Error(`${reader.where}: ${(e as Error).message}`);
            }
            known.set(k, { error: e });
          } finally {
            pending.delete(k);
          }
        }),
      ]);
    },
  };
}
