import type { CatalogService, ServiceInstance } from '../template/source.js';

export type { CatalogService, ServiceInstance };

/** Consul's check states; tend uses passing (healthy), warning (failing, below `failures`) and critical. */
export type InstanceStatus = 'passing' | 'warning' | 'critical';

/** One instance as tend publishes it. */
export interface Registration {
  /** unique per agent / registry: `<name>-<host>-<port>` unless given */
  id: string;
  name: string;
  /** undefined: Consul uses its node's address; the other registries always get one */
  address?: string;
  port: number;
  tags: string[];
  meta: Record<string, string>;
  ttlMs: number;
  /** this host's name */
  node: string;
  status: InstanceStatus;
  /** the last health check's output */
  output?: string;
}

/** A published instance, kept alive by its registry until withdrawn. */
export interface Publication {
  /** changes the status (a health check started or stopped failing) */
  update(status: InstanceStatus, output?: string): Promise<void>;
  /** removes the instance; resolves once the registry no longer lists it */
  withdraw(): Promise<void>;
  /** called once if the registry lost the instance on its own (an etcd lease that expired in an outage) */
  onLost(cb: () => void): void;
}

export interface Watch {
  close(): void;
}

/** One backend's registry: how instances are written, read and watched. */
export interface Registry {
  readonly kind: 'file' | 'etcd' | 'consul';
  /** where instances live, for messages (`<dir>/.services`, `etcd …/services/`, `consul agent …`) */
  readonly where: string;
  publish(reg: Registration): Promise<Publication>;
  /** every instance of a service, whatever its status, in a stable order (node, then ID) */
  instances(name: string): Promise<ServiceInstance[]>;
  /**
   * Calls onChange with the full list (every status) once known, then on every change. Never throws; keeps
   * trying while the backend is unreachable (the last list stands meanwhile).
   */
  watch(name: string, onChange: (list: ServiceInstance[]) => void): Watch;
  /** names and tags of every service with at least one instance */
  catalog(): Promise<CatalogService[]>;
  watchCatalog(onChange: (list: CatalogService[]) => void): Watch;
  close(): Promise<void>;
}
