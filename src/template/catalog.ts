/**
 * consul-template 0.42's Consul catalog functions: `node`, `nodes`, `datacenters`, `partitions`, `peerings`,
 * `exportedServices`, `importedServices`, `connect`, `caRoots`, `caLeaf`. Same query syntax, errors, sort
 * orders and Go types as consul-template's dependency package; the data comes from `TemplateSource.catalog`.
 * Like every data function here: what is not known yet is recorded as missing and an empty value returned,
 * and the render is retried once it is known.
 */
import type { FuncSpec } from './exec.js';
import { quote } from './fmt.js';
import type {
  CatalogAnswers,
  CatalogRequest,
  NodeInfo,
  NodeServiceInfo,
  PeeringInfo,
  Recorder,
  ServiceInstance,
  ServiceOptions,
} from './source.js';
import { catalogKey } from './source.js';
import { compareGoStrings, GoStruct, named, typed } from './values.js';

const NODE = '*dependency.Node';
const CATALOG_NODE = '*dependency.CatalogNode';
const NODE_SERVICE = '*dependency.CatalogNodeService';
const PARTITION = '*dependency.Partition';
const PEERING = '*dependency.Peering';
const EXPORTED = 'dependency.ExportedService';
const IMPORTED = 'dependency.ImportedService';
const CA_ROOT = '*api.CARoot';
const LEAF = '*api.LeafCert';

// consul-template's dependency regexps ([[:word:]] is ASCII [0-9A-Za-z_])
const NODES_RE = /^(?:@([\w.-]+))?(?:~([\w.-]+))?$/;
const NODE_RE = /^([\w.-]+)(?:@([\w.-]+))?$/;
const QUERY_ONLY_RE = /^(?:\?([\w=&-]+))?$/;

const strMap = (m: Record<string, string> | null | undefined) => typed({ ...(m ?? {}) }, 'string');
const strList = (l: string[] | null | undefined) => typed([...(l ?? [])], 'string');

function tags(list: string[]): string[] {
  const t = typed([...list].sort(compareGoStrings), 'string');
  return named(t, 'dependency.ServiceTags', {
    Contains: { params: ['string'], fn: (v: string) => t.includes(v) },
  });
}

function node(n: NodeInfo): GoStruct {
  return new GoStruct(NODE, {
    ID: n.ID,
    Node: n.Node,
    Address: n.Address,
    Datacenter: n.Datacenter,
    TaggedAddresses: strMap(n.TaggedAddresses),
    Meta: strMap(n.Meta),
  });
}

function nodeService(s: NodeServiceInfo): GoStruct {
  return new GoStruct(NODE_SERVICE, {
    ID: s.ID,
    Service: s.Service,
    Tags: tags(s.Tags),
    Meta: strMap(s.Meta),
    Port: s.Port,
    Address: s.Address,
    EnableTagOverride: s.EnableTagOverride,
  });
}

/** Go's time.Time.String() of an RFC 3339 time as encoding/json decodes it (zone kept: UTC for `Z`). */
export function goTimeString(iso: string): string {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})$/.exec(iso);
  if (!m) return iso;
  const frac = (m[3] ?? '').slice(0, 9).replace(/0+$/, '');
  const zone = m[4] === 'Z' ? '+0000 UTC' : `${m[4].replace(':', '')} ${m[4].replace(':', '')}`;
  return `${m[1]} ${m[2]}${frac ? `.${frac}` : ''} ${zone}`;
}

/** A `*time.Time`: prints as Go prints it; nil when Consul sent none. */
function timePtr(iso: string | null): unknown {
  if (iso === null || iso === undefined) return null;
  const text = goTimeString(iso);
  return new GoStruct('*time.Time', {}, { String: { params: [], fn: () => text } });
}

function peering(p: PeeringInfo): GoStruct {
  return new GoStruct(PEERING, {
    ID: p.ID,
    Name: p.Name,
    Partition: p.Partition,
    Meta: strMap(p.Meta),
    PeeringState: p.PeeringState,
    PeerID: p.PeerID,
    PeerServerName: p.PeerServerName,
    PeerServerAddresses: strList(p.PeerServerAddresses),
    StreamStatus: new GoStruct('dependency.PeeringStreamStatus', {
      ImportedServices: strList(p.StreamStatus.ImportedServices),
      ExportedServices: strList(p.StreamStatus.ExportedServices),
      LastHeartbeat: timePtr(p.StreamStatus.LastHeartbeat),
      LastReceive: timePtr(p.StreamStatus.LastReceive),
      LastSend: timePtr(p.StreamStatus.LastSend),
    }),
    Remote: new GoStruct('dependency.PeeringRemoteInfo', {
      Partition: p.Remote.Partition,
      Datacenter: p.Remote.Datacenter,
    }),
  });
}

/** url.ParseQuery over the restricted alphabet: first value wins. */
function queryParams(raw: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (raw ?? '').split('&')) {
    if (part === '') continue;
    const i = part.indexOf('=');
    const k = i < 0 ? part : part.slice(0, i);
    if (!out.has(k)) out.set(k, i < 0 ? '' : part.slice(i + 1));
  }
  return out;
}

export interface CatalogFuncDeps {
  rec: Recorder;
  /** builds a `*dependency.HealthService` (shared with `service`) */
  healthService: (s: ServiceInstance) => GoStruct;
  /** consul-template's service query parser (shared with `service`) */
  parseServiceQuery: (q: string) => {
    name: string;
    tag?: string;
    statuses: string[];
    near?: string;
  } & ServiceOptions;
}

/** Adds the catalog functions to `f`. */
export function addCatalogFuncs(f: Map<string, FuncSpec>, deps: CatalogFuncDeps): void {
  const { rec } = deps;
  const src = rec.source;
  const S = 'string';

  /** The source's answer, or undefined (recorded as missing). */
  function ask<K extends keyof CatalogAnswers>(
    req: CatalogRequest & { kind: K },
  ): CatalogAnswers[K] | undefined {
    const key = catalogKey(req);
    rec.use('catalogs', `catalog:${key}`);
    if (!src.catalog) {
      throw new Error(
        `${req.kind}: this render has no Consul catalog to read (tend render, tend template and tend up read the configured registry; docs/templates.md)`,
      );
    }
    const v = src.catalog(req) as CatalogAnswers[K] | null | undefined;
    if (v === undefined) {
      rec.miss('catalog', key);
      return undefined;
    }
    return v as CatalogAnswers[K];
  }

  f.set('nodes', {
    params: [],
    variadic: S,
    fn: (...s: string[]) => {
      const q = s.join('');
      const m = NODES_RE.exec(q);
      if (!m) throw new Error(`catalog.nodes: invalid format: ${quote(q)}`);
      const result = typed([] as GoStruct[], NODE);
      const req: CatalogRequest & { kind: 'nodes' } = { kind: 'nodes' };
      if (m[1] !== undefined) req.dc = m[1];
      if (m[2] !== undefined) req.near = m[2];
      const list = ask(req);
      if (!list) return result;
      for (const n of list) result.push(node(n));
      // sorted by name then address, unless ~near asked for Consul's order by round-trip time
      if (req.near === undefined) {
        result.sort(
          (a, b) =>
            compareGoStrings(a.fields.Node as string, b.fields.Node as string) ||
            compareGoStrings(a.fields.Address as string, b.fields.Address as string),
        );
      }
      return result;
    },
  });

  f.set('node', {
    params: [],
    variadic: S,
    fn: (...s: string[]) => {
      const q = s.join('');
      const m = q === '' ? ['', ''] : NODE_RE.exec(q);
      if (!m) throw new Error(`catalog.node: invalid format: ${quote(q)}`);
      const req: CatalogRequest & { kind: 'node' } = { kind: 'node', name: m[1] };
      if (m[2]) req.dc = m[2];
      const detail = ask(req);
      if (detail === undefined) return null;
      // a node the catalog does not have is an empty *CatalogNode (nil Node, no services), as in consul-template
      if (detail === null)
        return new GoStruct(CATALOG_NODE, { Node: null, Services: typed([], NODE_SERVICE) });
      const services = typed(detail.Services.map(nodeService), NODE_SERVICE);
      services.sort(
        (a, b) =>
          compareGoStrings(a.fields.Service as string, b.fields.Service as string) ||
          compareGoStrings(a.fields.ID as string, b.fields.ID as string),
      );
      return new GoStruct(CATALOG_NODE, { Node: node(detail.Node), Services: services });
    },
  });

  f.set('datacenters', {
    params: [],
    variadic: 'bool',
    fn: (...i: boolean[]) => {
      if (i.length > 1) {
        throw new Error(`datacenters: wrong number of arguments, expected 0 or 1, but got ${i.length}`);
      }
      const list = ask({ kind: 'datacenters', ignoreFailing: i[0] === true });
      return typed([...(list ?? [])].sort(compareGoStrings), 'string');
    },
  });

  f.set('partitions', {
    params: [],
    fn: () => {
      const list = ask({ kind: 'partitions' }) ?? [];
      const result = typed(
        list.map((p) => new GoStruct(PARTITION, { Name: p.Name, Description: p.Description })),
        PARTITION,
      );
      result.sort((a, b) => compareGoStrings(a.fields.Name as string, b.fields.Name as string));
      return result;
    },
  });

  f.set('peerings', {
    params: [],
    variadic: S,
    fn: (...s: string[]) => {
      const q = s.join('');
      const m = QUERY_ONLY_RE.exec(q);
      if (q !== '' && !m) throw new Error(`list.peering: invalid format: ${quote(q)}`);
      const req: CatalogRequest & { kind: 'peerings' } = { kind: 'peerings' };
      for (const [k, v] of queryParams(m?.[1])) {
        if (!['ns', 'peer', 'partition', 'sg'].includes(k)) {
          throw new Error(
            `list.peering: invalid query parameter key ${quote(k)} in query ${quote(m?.[1] ?? '')}: supported keys: ns,peer,partition,sg`,
          );
        }
        if (k === 'partition') req.partition = v;
      }
      const list = ask(req) ?? [];
      const result = typed(list.map(peering), PEERING);
      // by state, then partition, then name (consul-template's ByPeer)
      result.sort(
        (a, b) =>
          compareGoStrings(a.fields.PeeringState as string, b.fields.PeeringState as string) ||
          compareGoStrings(a.fields.Partition as string, b.fields.Partition as string) ||
          compareGoStrings(a.fields.Name as string, b.fields.Name as string),
      );
      return result;
    },
  });

  const partitionArg = (name: string, s: string[]) => {
    if (s.length > 1) throw new Error(`${name}: wrong number of arguments, expected 0 or 1`);
    return s.join('');
  };
  f.set('exportedServices', {
    params: [],
    variadic: S,
    fn: (...s: string[]) => {
      const list = ask({ kind: 'exportedServices', partition: partitionArg('exportedServices', s) }) ?? [];
      const result = typed(
        list.map(
          (e) =>
            new GoStruct(EXPORTED, {
              Service: e.Service,
              Partition: e.Partition,
              Namespace: e.Namespace,
              Consumers: new GoStruct('dependency.ResolvedConsumers', {
                Peers: strList(e.Consumers.Peers),
                Partitions: strList(e.Consumers.Partitions),
              }),
            }),
        ),
        EXPORTED,
      );
      // a stable sort by service name, as slices.SortStableFunc
      return stableSortBy(result, 'Service');
    },
  });
  f.set('importedServices', {
    params: [],
    variadic: S,
    fn: (...s: string[]) => {
      const list = ask({ kind: 'importedServices', partition: partitionArg('importedServices', s) }) ?? [];
      const result = typed(
        list.map(
          (e) =>
            new GoStruct(IMPORTED, {
              Service: e.Service,
              Namespace: e.Namespace,
              SourcePartition: e.SourcePartition,
            }),
        ),
        IMPORTED,
      );
      return stableSortBy(result, 'Service');
    },
  });

  f.set('connect', {
    params: [],
    variadic: S,
    fn: (...s: string[]) => {
      const result = typed([] as GoStruct[], '*dependency.HealthService');
      if (s.length === 0 || s[0] === '') return result;
      const q = deps.parseServiceQuery(s.join('|'));
      const opts: ServiceOptions = {};
      for (const k of ['tag', 'dc', 'near', 'ns', 'partition', 'peer', 'samenessGroup'] as const) {
        if (q[k] !== undefined) opts[k] = q[k];
      }
      const list = ask({ kind: 'connect', name: q.name, opts });
      if (!list) return result;
      for (const inst of list) {
        if (q.tag !== undefined && !inst.Tags.includes(q.tag)) continue;
        if (!q.statuses.some((st) => st === inst.Status || st === 'any')) continue;
        result.push(deps.healthService(inst));
      }
      if (q.near !== undefined) return result;
      result.sort(
        (a, b) =>
          compareGoStrings(a.fields.Node as string, b.fields.Node as string) ||
          compareGoStrings(a.fields.ID as string, b.fields.ID as string),
      );
      return result;
    },
  });

  f.set('caRoots', {
    params: [],
    variadic: S,
    fn: () => {
      const list = ask({ kind: 'caRoots' });
      if (!list) return typed([], CA_ROOT);
      return typed(
        list.map(
          (r) =>
            new GoStruct(CA_ROOT, {
              ID: r.ID,
              Name: r.Name,
              RootCertPEM: r.RootCertPEM,
              Active: r.Active,
              CreateIndex: r.CreateIndex,
              ModifyIndex: r.ModifyIndex,
            }),
        ),
        CA_ROOT,
      );
    },
  });

  f.set('caLeaf', {
    params: [],
    variadic: S,
    fn: (...s: string[]) => {
      if (s.length === 0 || s[0] === '') return null;
      const leaf = ask({ kind: 'caLeaf', service: s[0] });
      if (!leaf) return null;
      const at = (iso: string) => {
        const text = goTimeString(iso);
        return new GoStruct('time.Time', {}, { String: { params: [], fn: () => text } });
      };
      return new GoStruct(LEAF, {
        SerialNumber: leaf.SerialNumber,
        CertPEM: leaf.CertPEM,
        PrivateKeyPEM: leaf.PrivateKeyPEM,
        Service: leaf.Service,
        ServiceURI: leaf.ServiceURI,
        ValidAfter: at(leaf.ValidAfter),
        ValidBefore: at(leaf.ValidBefore),
        CreateIndex: leaf.CreateIndex,
        ModifyIndex: leaf.ModifyIndex,
      });
    },
  });
}

function stableSortBy(list: GoStruct[], field: string): GoStruct[] {
  const indexed = list.map((v, i) => [v, i] as const);
  indexed.sort(
    ([a, i], [b, j]) => compareGoStrings(a.fields[field] as string, b.fields[field] as string) || i - j,
  );
  const sorted = indexed.map(([v]) => v);
  list.splice(0, list.length, ...sorted);
  return list;
}
