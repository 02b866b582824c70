/**
 * Registrations as data: the instance ID, the address published by default, the JSON document stored by the
 * etcd and file registries, and the conversion to the ServiceInstance shape templates read.
 */
import { hostname, networkInterfaces } from 'node:os';
import type { RegisterPlan } from '../manifest/types.js';
import type { CatalogService, InstanceStatus, Registration, ServiceInstance } from './types.js';

/** Characters that are safe in a key segment, a file name and a Consul service ID. */
export function safeId(text: string): string {
  return text.replace(/[^A-Za-z0-9_.-]/g, '-');
}

export function instanceId(name: string, node: string, port: number): string {
  return safeId(`${name}-${node}-${port}`);
}

/**
 * The address other hosts can reach this one at, when `register.address` is not set: the first non-internal
 * IPv4 address, else the first non-internal IPv6 one, else loopback (a machine without a network).
 */
export function defaultAddress(): string {
  const all = Object.values(networkInterfaces()).flatMap((list) => list ?? []);
  const external = all.filter((a) => !a.internal);
  return (
    external.find((a) => a.family === 'IPv4')?.address ??
    external.find((a) => a.family === 'IPv6' && !a.address.startsWith('fe80'))?.address ??
    '127.0.0.1'
  );
}

export function registrationOf(
  plan: RegisterPlan,
  opts: { node?: string; address?: string } = {},
): Registration {
  const node = opts.node ?? hostname();
  return {
    id: instanceId(plan.name, node, plan.port),
    name: plan.name,
    address: plan.address ?? opts.address,
    port: plan.port,
    tags: [...plan.tags],
    meta: { ...plan.meta },
    ttlMs: plan.ttlMs,
    node,
    status: 'passing',
  };
}

/** Go-style duration for Consul and the stored documents: whole seconds when possible. */
export function goDuration(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

/** The document the etcd and file registries store per instance. */
export interface StoredInstance {
  ID: string;
  Name: string;
  Address: string;
  Port: number;
  Tags: string[];
  Meta: Record<string, string>;
  Node: string;
  Status: InstanceStatus;
  Output?: string;
  /** informational for etcd (the lease decides); the file registry expires entries by it */
  TTL: string;
}

export function storedOf(reg: Registration): StoredInstance {
  const doc: StoredInstance = {
    ID: reg.id,
    Name: reg.name,
    Address: reg.address ?? '',
    Port: reg.port,
    Tags: reg.tags,
    Meta: reg.meta,
    Node: reg.node,
    Status: reg.status,
    TTL: goDuration(reg.ttlMs),
  };
  if (reg.output !== undefined) doc.Output = reg.output;
  return doc;
}

const STATUSES = new Set(['passing', 'warning', 'critical']);

/** Parses a stored document; undefined for anything that is not one (a stray key, a half-written file). */
export function parseStored(text: string): StoredInstance | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!v || typeof v !== 'object') return undefined;
  const d = v as Record<string, unknown>;
  if (typeof d.ID !== 'string' || typeof d.Name !== 'string' || typeof d.Port !== 'number') return undefined;
  const strings = (x: unknown) =>
    Array.isArray(x) ? x.filter((t): t is string => typeof t === 'string') : [];
  const record = (x: unknown): Record<string, string> =>
    x && typeof x === 'object' && !Array.isArray(x)
      ? Object.fromEntries(Object.entries(x).filter((e): e is [string, string] => typeof e[1] === 'string'))
      : {};
  return {
    ID: d.ID,
    Name: d.Name,
    Address: typeof d.Address === 'string' ? d.Address : '',
    Port: d.Port,
    Tags: strings(d.Tags),
    Meta: record(d.Meta),
    Node: typeof d.Node === 'string' ? d.Node : '',
    Status: typeof d.Status === 'string' && STATUSES.has(d.Status) ? (d.Status as InstanceStatus) : 'passing',
    Output: typeof d.Output === 'string' ? d.Output : undefined,
    TTL: typeof d.TTL === 'string' ? d.TTL : '',
  };
}

/** Milliseconds of a Go-style duration as storedOf writes it (`10s`, `1500ms`, `1m`); undefined if not one. */
export function parseGoDuration(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(text);
  if (!m) return undefined;
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
  return Number(m[1]) * unit;
}

export function instanceOf(doc: StoredInstance): ServiceInstance {
  return {
    Node: doc.Node,
    NodeID: '',
    Kind: '',
    NodeAddress: doc.Address,
    NodeDatacenter: '',
    NodeTaggedAddresses: {},
    NodeMeta: {},
    ServiceMeta: doc.Meta,
    Address: doc.Address,
    ID: doc.ID,
    Name: doc.Name,
    Tags: doc.Tags,
    Status: doc.Status,
    Port: doc.Port,
    Namespace: '',
  };
}

/** Consul's order for health results: by node, then service ID. */
export function sortInstances(list: ServiceInstance[]): ServiceInstance[] {
  return list.sort((a, b) =>
    a.Node === b.Node ? (a.ID < b.ID ? -1 : a.ID > b.ID ? 1 : 0) : a.Node < b.Node ? -1 : 1,
  );
}

export function catalogOf(instances: ServiceInstance[]): CatalogService[] {
  const tags = new Map<string, Set<string>>();
  for (const i of instances) {
    let set = tags.get(i.Name);
    if (!set) {
      set = new Set();
      tags.set(i.Name, set);
    }
    for (const t of i.Tags) set.add(t);
  }
  return [...tags.keys()].sort().map((Name) => ({ Name, Tags: [...(tags.get(Name) ?? [])].sort() }));
}

/** Same instances, same everything: a watch reports only real changes. */
export function sameList<T>(a: T[] | undefined, b: T[]): boolean {
  return a !== undefined && JSON.stringify(a) === JSON.stringify(b);
}
