import type { InstanceStatus, Publication, Registration, Watch } from '../runtime/index.js';
import type { CatalogService, ServiceInstance } from '../template/source.js';

export type { CatalogService, InstanceStatus, Publication, Registration, ServiceInstance, Watch };

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
