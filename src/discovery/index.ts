/**
 * Service discovery: `register` publishes a ready service, `requires` waits for services to be published, and
 * templates read the same data through `service` / `services`.
 *
 * Registries, one per KV backend (chosen from the run's `kv:` URL):
 *   etcd    key `<url prefix>services/<name>/<id>` = JSON {ID, Name, Address, Port, Tags, Meta, Node, Status,
 *           Output?, TTL}, bound to a lease of `register.ttl` that tend keeps alive; tend dying = the lease
 *           expires and etcd deletes the key. A lease lost in a long outage is re-granted and the key re-put.
 *   consul  the local agent's service catalog (not KV): /v1/agent/service/register with a TTL check
 *           `service:<id>` passed by tend every TTL/2 from its own health results (warn while a health check
 *           fails below `failures`), DeregisterCriticalServiceAfter 1m; read through /v1/health/service/<name>
 *           and /v1/catalog/services with blocking queries. See consul-registry.ts.
 *   file    the folder `<kv folder>/.services/` (next to the file for a YAML/JSON store): one JSON document per
 *           instance at `<name>/<id>.json`, the same document as etcd's; live while its mtime is younger than
 *           its TTL (tend touches it every TTL/3). Two tends on one machine share it by naming the same KV
 *           folder. See file-registry.ts.
 * The instance ID is `<name>-<hostname>-<port>`. The published address is `register.address`, else (etcd and
 * file) the host's first non-internal IPv4 address, else (Consul) the agent's node address.
 *
 * When: published while the service is `ready` and maintenance mode is off; withdrawn when it stops being ready
 * (exit, unhealthy) and, on every stop, before the stop signal (the runner's `beforeStop` hook waits for the
 * withdrawal, at most 5 s); `tend maintenance on` withdraws every registration and `off` publishes them again,
 * services running throughout. Status: `passing`; `warning` while its health check fails below `failures`.
 *
 * `requires`: one gate per required service, closed ("waiting for api in discovery (…)") until at least one
 * `passing` instance is listed; `requires_timeout` turns a wait that long into `failed`.
 *
 * For the other modules (the render loop's template `service` / `services` functions, through
 * src/render/discovery-source.ts):
 *   const d = rt.discovery();                        // one per run, opened on first use; src/app closes it
 *   d.watch('api', (list) => …)                      // every status: the template engine filters by status/tag
 *   d.watch('api', cb, { passingOnly: true, tag })   // filtered
 *   d.cached('api')                                  // last list seen by a watch, for a synchronous snapshot
 *   await d.instances('api', { passingOnly: true }); d.services(); d.watchServices(cb)
 * Lists are ServiceInstance (src/template/source.ts), ordered by node then ID, as Consul orders them.
 */
export {
  applyFilter,
  createDiscovery,
  type Discovery,
  fileRegistryDir,
  type InstanceFilter,
  type OpenRegistryOptions,
  openRegistry,
} from './discovery.js';
export { type DiscoveryModule, discoveryModule } from './module.js';
export { defaultAddress, instanceId, registrationOf } from './record.js';
export { type Conditions, createRegistrar, type Registrar } from './registrar.js';
export { gateRequires } from './requires.js';
export type {
  CatalogService,
  InstanceStatus,
  Publication,
  Registration,
  Registry,
  ServiceInstance,
  Watch,
} from './types.js';
