/**
 * The data-source side of consul-template's functions: a synchronous snapshot interface, a
 * recorder of what a render read and lacked, and an in-memory source.
 */
import { readFileSync } from 'node:fs';

export interface KVPair {
  /** Full path of the key, e.g. `app/config/port`. */
  key: string;
  value: string;
}

/** A service instance in the shape of consul-template's `*dependency.HealthService`. */
export interface ServiceInstance {
  Node: string;
  NodeID: string;
  Kind: string;
  NodeAddress: string;
  NodeDatacenter: string;
  NodeTaggedAddresses: Record<string, string>;
  NodeMeta: Record<string, string>;
  ServiceMeta: Record<string, string>;
  Address: string;
  ID: string;
  Name: string;
  Tags: string[];
  /** `passing`, `warning`, `critical` or `maintenance`. */
  Status: string;
  Port: number;
  Namespace: string;
}

/** A catalog entry as `services` lists it (`*dependency.CatalogSnippet`). */
export interface CatalogService {
  Name: string;
  Tags: string[];
}

/**
 * What templates read, as a synchronous snapshot. `undefined` means "not known yet": the
 * render records it as missing so the caller can fetch it and render again. `null` means
 * known to be absent.
 */
export interface TemplateSource {
  key(path: string): string | null | undefined;
  /** Every pair whose key starts with `prefix` (recursive), as a KV store lists them. */
  list(prefix: string): KVPair[] | null | undefined;
  /** Catalog services of a datacenter (`''` for the local one). */
  services(dc: string, opts?: CatalogOptions): CatalogService[] | null | undefined;
  /**
   * Instances of a service, healthy or not; the engine filters by status and tag. A source that cannot honour
   * an option (a namespace, partition, peer or sameness group it does not have) throws an Error saying so: the
   * render fails with that message instead of waiting for data that will never come.
   */
  service(name: string, opts: ServiceOptions): ServiceInstance[] | null | undefined;
  file(path: string): string | null | undefined;
  /** Environment variable; `undefined` when unset. */
  env(name: string): string | undefined;
}

/**
 * What a `service` query asks of the source, parsed out of `[tag.]name[?ns=&partition=&peer=&sg=][@dc][~near]`
 * as consul-template's dependency parser reads it. Only the options present are set.
 */
export interface ServiceOptions {
  tag?: string;
  dc?: string;
  /** `~node`: order by round-trip time to that node (`_agent`: to the local agent). */
  near?: string;
  /** Consul namespace (`?ns=`). */
  ns?: string;
  /** Consul admin partition (`?partition=`). */
  partition?: string;
  /** Consul cluster peer (`?peer=`). */
  peer?: string;
  /** Consul sameness group (`?sg=`). */
  samenessGroup?: string;
}

/** What a `services` query asks of the source besides the datacenter: `?ns=&partition=`. */
export interface CatalogOptions {
  ns?: string;
  partition?: string;
}

/** Options a source without namespaces, partitions, peers or sameness groups cannot honour, as written. */
export function unsupportedQueryOptions(opts: ServiceOptions | CatalogOptions): string[] {
  const names: [keyof ServiceOptions, string][] = [
    ['ns', 'ns'],
    ['partition', 'partition'],
    ['peer', 'peer'],
    ['samenessGroup', 'sg'],
  ];
  return names.filter(([k]) => (opts as ServiceOptions)[k] !== undefined).map(([, q]) => `?${q}=`);
}

/** Everything one render read. The caller watches exactly these. */
export interface Deps {
  keys: string[];
  prefixes: string[];
  /** Service queries as written, e.g. `web`, `prod.web@dc2|passing,warning`. */
  services: string[];
  /** `''` for the local datacenter's catalog, else `@dc`. */
  catalogs: string[];
  files: string[];
  env: string[];
}

export function emptyDeps(): Deps {
  return { keys: [], prefixes: [], services: [], catalogs: [], files: [], env: [] };
}

/** Records reads against a source. `missing` entries read `key:PATH`, `prefix:PATH`, … */
export class Recorder {
  private readonly sets = {
    keys: new Set<string>(),
    prefixes: new Set<string>(),
    services: new Set<string>(),
    catalogs: new Set<string>(),
    files: new Set<string>(),
    env: new Set<string>(),
  };
  private readonly missingSet = new Set<string>();

  constructor(readonly source: TemplateSource) {}

  use(kind: keyof Deps, name: string): void {
    this.sets[kind].add(name);
  }

  miss(kind: 'key' | 'prefix' | 'service' | 'services' | 'file', name: string): void {
    this.missingSet.add(`${kind}:${name}`);
  }

  deps(): Deps {
    const sorted = (s: Set<string>) => [...s].sort();
    return {
      keys: sorted(this.sets.keys),
      prefixes: sorted(this.sets.prefixes),
      services: sorted(this.sets.services),
      catalogs: sorted(this.sets.catalogs),
      files: sorted(this.sets.files),
      env: sorted(this.sets.env),
    };
  }

  missing(): string[] {
    return [...this.missingSet].sort();
  }
}

export interface ServiceInput extends Partial<Omit<ServiceInstance, 'Tags'>> {
  Tags?: string[];
}

export interface MemorySourceInit {
  /** Keys and values; nested objects are flattened with `/` (`{a: {b: "1"}}` is `a/b`). */
  kv?: Record<string, unknown>;
  /** Service name → instances (partial; the rest defaults as Consul would report it). */
  services?: Record<string, ServiceInput[]>;
  /** File path → contents, for `file`. */
  files?: Record<string, string>;
  /** Read files missing from `files` from disk (the CLI does). */
  readFiles?: boolean;
  /** Environment; defaults to process.env. */
  env?: Record<string, string | undefined>;
}

function flatten(obj: Record<string, unknown>, prefix: string, out: Map<string, string>): void {
  for (const [k, v] of Object.entries(obj)) {
    const path = prefix ? `${prefix}/${k}` : k;
    if (v !== null && typeof v === 'object' && !Array.isArray(v))
      flatten(v as Record<string, unknown>, path, out);
    else if (v === null || v === undefined) out.set(path, '');
    else if (typeof v === 'string') out.set(path, v);
    else out.set(path, JSON.stringify(v));
  }
}

export function fullInstance(name: string, s: ServiceInput, i: number): ServiceInstance {
  return {
    Node: s.Node ?? 'node',
    NodeID: s.NodeID ?? '',
    Kind: s.Kind ?? '',
    NodeAddress: s.NodeAddress ?? s.Address ?? '127.0.0.1',
    NodeDatacenter: s.NodeDatacenter ?? 'dc1',
    NodeTaggedAddresses: s.NodeTaggedAddresses ?? {},
    NodeMeta: s.NodeMeta ?? {},
    ServiceMeta: s.ServiceMeta ?? {},
    Address: s.Address ?? s.NodeAddress ?? '127.0.0.1',
    ID: s.ID ?? (i === 0 ? name : `${name}-${i}`),
    Name: s.Name ?? name,
    Tags: s.Tags ?? [],
    Status: s.Status ?? 'passing',
    Port: s.Port ?? 0,
    Namespace: s.Namespace ?? '',
  };
}

/**
 * A source over plain data, complete by construction: absent keys are `null` (known absent),
 * never `undefined`. Tests use it, and so can a KV backend that loads everything at once.
 */
export function memorySource(init: MemorySourceInit = {}): TemplateSource {
  const kv = new Map<string, string>();
  flatten(init.kv ?? {}, '', kv);
  const keys = [...kv.keys()].sort();
  const services = new Map<string, ServiceInstance[]>();
  for (const [name, list] of Object.entries(init.services ?? {})) {
    services.set(
      name,
      list.map((s, i) => fullInstance(name, s, i)),
    );
  }
  const env = init.env ?? process.env;
  return {
    key: (path) => (kv.has(path) ? kv.get(path)! : null),
    list: (prefix) => keys.filter((k) => k.startsWith(prefix)).map((k) => ({ key: k, value: kv.get(k)! })),
    services: () =>
      [...services.keys()].sort().map((name) => {
        const tags = new Set<string>();
        for (const s of services.get(name)!) for (const t of s.Tags) tags.add(t);
        return { Name: name, Tags: [...tags].sort() };
      }),
    service: (name, opts) => {
      const list = services.get(name) ?? [];
      // Instances carry their Namespace, so `?ns=` can be honoured here; partitions, peers and groups cannot.
      const other = unsupportedQueryOptions({ ...opts, ns: undefined });
      if (other.length > 0) {
        throw new Error(
          `service ${JSON.stringify(name)}: ${other.join(', ')} needs Consul Enterprise or peering, which this source does not have`,
        );
      }
      return list.filter(
        (s) =>
          (!opts.dc || s.NodeDatacenter === opts.dc) && (opts.ns === undefined || s.Namespace === opts.ns),
      );
    },
    file: (path) => {
      if (init.files && Object.hasOwn(init.files, path)) return init.files[path];
      if (!init.readFiles) return null;
      try {
        return readFileSync(path, 'utf8');
      } catch {
        return null;
      }
    },
    env: (name) => (Object.hasOwn(env, name) ? env[name] : undefined),
  };
}
