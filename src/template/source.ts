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
  /**
   * The Consul catalog functions (`node`, `nodes`, `datacenters`, `partitions`, `peerings`, `exportedServices`,
   * `importedServices`, `connect`, `caRoots`, `caLeaf`): the answer of `req` in the shape `CatalogAnswers` gives
   * its kind, `undefined` while not known yet. A source without it, or one whose backend has no such thing
   * (Connect, partitions, peerings outside Consul), throws an Error naming the backend. See catalog-source.ts.
   */
  catalog?(req: CatalogRequest): unknown;
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
  /** `services` queries (`''` for the local datacenter's catalog, else `@dc`) and catalog function keys (`catalog:nodes`). */
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

  miss(kind: 'key' | 'prefix' | 'service' | 'services' | 'file' | 'catalog', name: string): void {
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
  /**
   * Catalog answers by `catalogKey` (`nodes`, `node:web1`, `peerings` …). Kinds not given are derived from
   * `services` as tend's own registries derive them (`catalogFromInstances`, with node `localNode`).
   */
  catalog?: Record<string, unknown>;
  /** The node `node` (no name) reads; default `node`. */
  localNode?: string;
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
    catalog: (req) => {
      const key = catalogKey(req);
      if (init.catalog && Object.hasOwn(init.catalog, key)) return init.catalog[key];
      const all = [...services.values()].flat();
      return catalogFromInstances(all, req, { localNode: init.localNode ?? 'node', where: 'this source' });
    },
  };
}

/**
 * The catalog functions over a registry that only holds service instances (tend's file and etcd registries):
 * `nodes` are the hosts that registered instances, `node` one host (the local one without a name) with its
 * instances as services, `datacenters` none (instances carry no datacenter). Connect, CA, partitions, peerings
 * and exported/imported services need Consul: asking throws, naming `where`.
 */
export function catalogFromInstances(
  instances: ServiceInstance[],
  req: CatalogRequest,
  opts: { localNode: string; where: string },
): unknown {
  const nodeOf = (i: ServiceInstance): NodeInfo => ({
    ID: i.NodeID,
    Node: i.Node,
    Address: i.NodeAddress,
    Datacenter: i.NodeDatacenter,
    TaggedAddresses: { ...i.NodeTaggedAddresses },
    Meta: { ...i.NodeMeta },
  });
  // an instance of another datacenter is not in this one's catalog; tend's registries have none
  const inDc = (dc: string | undefined) => (i: ServiceInstance) => !dc || i.NodeDatacenter === dc;
  switch (req.kind) {
    case 'nodes': {
      const byName = new Map<string, NodeInfo>();
      for (const i of instances.filter(inDc(req.dc))) if (!byName.has(i.Node)) byName.set(i.Node, nodeOf(i));
      return [...byName.values()];
    }
    case 'node': {
      const name = req.name || opts.localNode;
      const mine = instances.filter((i) => i.Node === name).filter(inDc(req.dc));
      if (mine.length === 0) return null;
      return {
        Node: nodeOf(mine[0]),
        Services: mine.map(
          (i): NodeServiceInfo => ({
            ID: i.ID,
            Service: i.Name,
            Tags: [...i.Tags],
            Meta: { ...i.ServiceMeta },
            Port: i.Port,
            Address: i.Address,
            EnableTagOverride: false,
          }),
        ),
      };
    }
    case 'datacenters':
      return [...new Set(instances.map((i) => i.NodeDatacenter).filter((d) => d !== ''))].sort();
    case 'connect':
    case 'caRoots':
    case 'caLeaf':
      throw new CatalogUnsupported(
        `${req.kind}: needs Consul Connect (service mesh), which ${opts.where} does not have; use kv: consul://… (docs/templates.md)`,
      );
    case 'partitions':
    case 'exportedServices':
    case 'importedServices':
      throw new CatalogUnsupported(
        `${req.kind}: needs Consul Enterprise admin partitions, which ${opts.where} does not have (docs/templates.md)`,
      );
    case 'peerings':
      throw new CatalogUnsupported(
        `${req.kind}: needs Consul cluster peering, which ${opts.where} does not have (docs/templates.md)`,
      );
    default: {
      const never: never = req;
      throw new Error(`unknown catalog request ${JSON.stringify(never)}`);
    }
  }
}

/**
 * A catalog request the source's backend cannot answer at all (Connect, partitions or peerings outside Consul,
 * a query option a registry lacks): the render fails with this message rather than wait for data.
 */
export class CatalogUnsupported extends Error {}

// ---- the Consul catalog functions' requests and answers -------------------------------------------------

export type CatalogRequest =
  /** `nodes "@dc~near"` */
  | { kind: 'nodes'; dc?: string; near?: string }
  /** `node "name@dc"`; name `''` is the local agent's node */
  | { kind: 'node'; name: string; dc?: string }
  /** `datacenters [ignoreFailing]` */
  | { kind: 'datacenters'; ignoreFailing: boolean }
  | { kind: 'partitions' }
  /** `peerings "?partition=p"` */
  | { kind: 'peerings'; partition?: string }
  /** `exportedServices "partition"` (`''`: the agent's) */
  | { kind: 'exportedServices'; partition: string }
  | { kind: 'importedServices'; partition: string }
  /** `connect "name"`: Connect-capable instances, every status (the engine filters as for `service`) */
  | { kind: 'connect'; name: string; opts: ServiceOptions }
  | { kind: 'caRoots' }
  /** `caLeaf "service"` */
  | { kind: 'caLeaf'; service: string };

export interface NodeInfo {
  ID: string;
  Node: string;
  Address: string;
  Datacenter: string;
  TaggedAddresses: Record<string, string>;
  Meta: Record<string, string>;
}

export interface NodeServiceInfo {
  ID: string;
  Service: string;
  Tags: string[];
  Meta: Record<string, string>;
  Port: number;
  Address: string;
  EnableTagOverride: boolean;
}

export interface PeeringInfo {
  ID: string;
  Name: string;
  Partition: string;
  Meta: Record<string, string>;
  /** Consul's `State` */
  PeeringState: string;
  PeerID: string;
  PeerServerName: string;
  PeerServerAddresses: string[];
  StreamStatus: {
    ImportedServices: string[];
    ExportedServices: string[];
    /** RFC 3339 as Consul sends it, or null */
    LastHeartbeat: string | null;
    LastReceive: string | null;
    LastSend: string | null;
  };
  Remote: { Partition: string; Datacenter: string };
}

export interface CARootInfo {
  ID: string;
  Name: string;
  /** Consul's `RootCert` */
  RootCertPEM: string;
  Active: boolean;
  CreateIndex: number;
  ModifyIndex: number;
}

export interface LeafCertInfo {
  SerialNumber: string;
  CertPEM: string;
  PrivateKeyPEM: string;
  Service: string;
  ServiceURI: string;
  /** RFC 3339 */
  ValidAfter: string;
  ValidBefore: string;
  CreateIndex: number;
  ModifyIndex: number;
}

/** What a source answers for each kind (`node` answers null for a node the catalog does not have). */
export interface CatalogAnswers {
  nodes: NodeInfo[];
  node: { Node: NodeInfo; Services: NodeServiceInfo[] } | null;
  datacenters: string[];
  partitions: Array<{ Name: string; Description: string }>;
  peerings: PeeringInfo[];
  exportedServices: Array<{
    Service: string;
    Partition: string;
    Namespace: string;
    Consumers: { Peers: string[]; Partitions: string[] };
  }>;
  importedServices: Array<{ Service: string; Namespace: string; SourcePartition: string }>;
  connect: ServiceInstance[];
  caRoots: CARootInfo[];
  caLeaf: LeafCertInfo | null;
}

/** One string per request, for missing lists and caches: `nodes@dc1~_agent`, `node:web1@dc2`, `caLeaf:web` … */
export function catalogKey(req: CatalogRequest): string {
  switch (req.kind) {
    case 'nodes':
      return `nodes${req.dc ? `@${req.dc}` : ''}${req.near ? `~${req.near}` : ''}`;
    case 'node':
      return `node:${req.name}${req.dc ? `@${req.dc}` : ''}`;
    case 'datacenters':
      return req.ignoreFailing ? 'datacenters:ignoreFailing' : 'datacenters';
    case 'partitions':
    case 'caRoots':
      return req.kind;
    case 'peerings':
      return `peerings${req.partition ? `?partition=${req.partition}` : ''}`;
    case 'exportedServices':
    case 'importedServices':
      return `${req.kind}:${req.partition}`;
    case 'connect': {
      const o = req.opts;
      const q = (['ns', 'partition', 'peer', 'samenessGroup'] as const)
        .filter((k) => o[k] !== undefined)
        .map((k) => `${k}=${o[k]}`)
        .join('&');
      return `connect:${req.name}${q ? `?${q}` : ''}${o.dc ? `@${o.dc}` : ''}${o.near ? `~${o.near}` : ''}`;
    }
    case 'caLeaf':
      return `caLeaf:${req.service}`;
    default: {
      const never: never = req;
      throw new Error(`unknown catalog request ${JSON.stringify(never)}`);
    }
  }
}
