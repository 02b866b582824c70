/**
 * The Consul registry, on the local agent's HTTP API (service registration is not KV):
 *
 *   PUT /v1/agent/service/register          {ID, Name, Tags, Address?, Port, Meta,
 *                                              Check: {CheckID: "service:<ID>", Name, TTL, Status: "passing",
 *                                                      Notes, DeregisterCriticalServiceAfter}}
 *   PUT /v1/agent/check/pass|warn|fail/service:<ID>?note=<last health output>   every TTL/2, and on a change
 *   PUT /v1/agent/service/deregister/<ID>
 *   GET /v1/health/service/<name>           blocking queries (?index, ?wait), every status; filtered here
 *   GET /v1/catalog/services                blocking queries
 *
 * If tend dies, nobody passes the TTL check: the instance turns critical after the TTL (out of `?passing` and
 * of templates) and the agent deregisters it after DeregisterCriticalServiceAfter (1m, Consul's minimum).
 * A TTL update the agent refuses (it restarted and forgot the service) registers the service again.
 *
 * Blocking queries follow the same index rules as the KV backend: no index on the first query and after a
 * reset; an index that goes backwards resets to 0; an index below 1 is used as 1; queries of one loop start at
 * least `minQueryIntervalMs` apart; errors back off.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { type ConsulHttpResult, type ConsulKvConfig, createConsulHttp } from '../kv/index.js';
import { backoffDelay, type LongTimer, setLongTimeout, sleep } from '../time/index.js';
import { goDuration, sameList, sortInstances } from './record.js';
import type {
  CatalogService,
  InstanceStatus,
  Publication,
  Registration,
  Registry,
  ServiceInstance,
  Watch,
} from './types.js';

/** Consul deregisters critical services no sooner than this, whatever is asked. */
export const DEREGISTER_CRITICAL_AFTER = '1m';

export interface ConsulRegistryTiming {
  requestTimeoutMs: number;
  minQueryIntervalMs: number;
  backoffInitialMs: number;
  backoffMaxMs: number;
}

const defaultTiming: ConsulRegistryTiming = {
  requestTimeoutMs: 10_000,
  minQueryIntervalMs: 500,
  backoffInitialMs: 200,
  backoffMaxMs: 5_000,
};

type HttpResult = ConsulHttpResult;

/** One entry of /v1/health/service/:name, as documented (the fields tend reads). */
interface HealthEntry {
  Node?: {
    ID?: string;
    Node?: string;
    Address?: string;
    Datacenter?: string;
    TaggedAddresses?: Record<string, string> | null;
    Meta?: Record<string, string> | null;
  };
  Service?: {
    ID?: string;
    Service?: string;
    Kind?: string;
    Tags?: string[] | null;
    Address?: string;
    Meta?: Record<string, string> | null;
    Port?: number;
    Namespace?: string;
  };
  Checks?: Array<{ CheckID?: string; Status?: string }> | null;
}

const TTL_VERB: Record<InstanceStatus, 'pass' | 'warn' | 'fail'> = {
  passing: 'pass',
  warning: 'warn',
  critical: 'fail',
};

/** consul-template's aggregation: maintenance, then critical, then warning, else passing. */
export function aggregateStatus(checks: HealthEntry['Checks']): string {
  let status = 'passing';
  for (const c of checks ?? []) {
    const id = c.CheckID ?? '';
    if (id === '_node_maintenance' || id.startsWith('_service_maintenance:')) return 'maintenance';
    if (c.Status === 'critical') status = 'critical';
    else if (c.Status === 'warning' && status !== 'critical') status = 'warning';
  }
  return status;
}

export function instanceFromHealth(e: HealthEntry): ServiceInstance {
  const node = e.Node ?? {};
  const svc = e.Service ?? {};
  return {
    Node: node.Node ?? '',
    NodeID: node.ID ?? '',
    Kind: svc.Kind ?? '',
    NodeAddress: node.Address ?? '',
    NodeDatacenter: node.Datacenter ?? '',
    NodeTaggedAddresses: node.TaggedAddresses ?? {},
    NodeMeta: node.Meta ?? {},
    ServiceMeta: svc.Meta ?? {},
    // as consul-template: an instance registered without an address is reached at its node's
    Address: svc.Address || node.Address || '',
    ID: svc.ID ?? '',
    Name: svc.Service ?? '',
    Tags: [...new Set(svc.Tags ?? [])],
    Status: aggregateStatus(e.Checks),
    Port: svc.Port ?? 0,
    Namespace: svc.Namespace ?? '',
  };
}

/** The registration body of PUT /v1/agent/service/register. */
export function registerBody(reg: Registration): Record<string, unknown> {
  const body: Record<string, unknown> = {
    ID: reg.id,
    Name: reg.name,
    Tags: reg.tags,
    Port: reg.port,
    Meta: reg.meta,
    Check: {
      CheckID: checkId(reg),
      Name: `tend health of ${reg.name}`,
      TTL: goDuration(reg.ttlMs),
      Status: reg.status,
      Notes: 'passed by tend from its own health checks',
      DeregisterCriticalServiceAfter: DEREGISTER_CRITICAL_AFTER,
    },
  };
  if (reg.address) body.Address = reg.address;
  return body;
}

export const checkId = (reg: Registration) => `service:${reg.id}`;

/** A path segment, escaped except for `:` (legal in a path; check IDs read `service:<id>` as in Consul's docs). */
const segment = (text: string) => encodeURIComponent(text).replace(/%3A/gi, ':');

class ConsulHttpError extends Error {
  constructor(
    readonly status: number,
    what: string,
    body: string,
  ) {
    super(`${what}: HTTP ${status}${body.trim() ? `: ${body.trim().slice(0, 200)}` : ''}`);
  }
}

export function consulRegistry(
  config: ConsulKvConfig,
  opts: { timing?: Partial<ConsulRegistryTiming> } = {},
): Registry {
  const timing = { ...defaultTiming, ...opts.timing };
  const closers = new Set<() => void>();
  let closed = false;
  const http = createConsulHttp(config, { requestTimeoutMs: timing.requestTimeoutMs });

  /** agent endpoints take no datacenter; reads that may (`dc: true`) ask for it */
  const request = (
    method: 'GET' | 'PUT',
    path: string,
    o: {
      query?: Record<string, string>;
      body?: unknown;
      timeoutMs?: number;
      signal?: AbortSignal;
      dc?: boolean;
    } = {},
  ): Promise<HttpResult> => http.request(method, path, { ...o, dc: o.dc ?? false });

  const put = async (
    what: string,
    path: string,
    o: { query?: Record<string, string>; body?: unknown } = {},
  ) => {
    const r = await request('PUT', path, o);
    if (r.status !== 200) throw new ConsulHttpError(r.status, what, r.body);
  };

  const healthOf = async (
    name: string,
    query: Record<string, string>,
    signal?: AbortSignal,
    timeoutMs?: number,
  ) => {
    const r = await request('GET', `/v1/health/service/${segment(name)}`, {
      query,
      signal,
      timeoutMs,
      dc: true,
    });
    if (r.status !== 200) throw new ConsulHttpError(r.status, `health of ${name}`, r.body);
    const entries = JSON.parse(r.body) as HealthEntry[] | null;
    return { list: sortInstances((entries ?? []).map(instanceFromHealth)), index: indexOf(r.headers) };
  };

  const catalogOf = async (query: Record<string, string>, signal?: AbortSignal, timeoutMs?: number) => {
    const r = await request('GET', '/v1/catalog/services', { query, signal, timeoutMs, dc: true });
    if (r.status !== 200) throw new ConsulHttpError(r.status, 'catalog services', r.body);
    const map = (JSON.parse(r.body) ?? {}) as Record<string, string[] | null>;
    const list: CatalogService[] = Object.keys(map)
      .sort()
      .map((Name) => ({ Name, Tags: [...new Set(map[Name] ?? [])].sort() }));
    return { list, index: indexOf(r.headers) };
  };

  /** A blocking-query loop: `query(index, wait)` until closed, reporting lists that differ from the last. */
  const follow = <T>(
    query: (
      q: Record<string, string>,
      signal: AbortSignal,
      timeoutMs: number,
    ) => Promise<{ list: T[]; index?: number }>,
    onChange: (list: T[]) => void,
  ): Watch => {
    const abort = new AbortController();
    let last: T[] | undefined;
    const loop = async () => {
      let index = 0;
      let failures = 0;
      let lastStart = 0;
      while (!abort.signal.aborted) {
        const gap = lastStart + timing.minQueryIntervalMs - Date.now();
        if (gap > 0) await sleep(gap, abort.signal);
        if (abort.signal.aborted) return;
        lastStart = Date.now();
        const q: Record<string, string> = {};
        if (index > 0) {
          q.index = String(index);
          q.wait = goDuration(config.waitMs);
        }
        try {
          // Consul adds up to wait/16 of jitter to a blocking query's wait
          const r = await query(
            q,
            abort.signal,
            config.waitMs + config.waitMs / 16 + timing.requestTimeoutMs,
          );
          failures = 0;
          const next = r.index ?? 0;
          index = next < index ? 0 : Math.max(1, next);
          if (!sameList(last, r.list)) {
            last = r.list;
            onChange(r.list);
          }
        } catch {
          if (abort.signal.aborted) return;
          index = 0;
          const delay = backoffDelay(failures++, {
            initialMs: timing.backoffInitialMs,
            maxMs: timing.backoffMaxMs,
            jitter: 'spread',
          });
          await sleep(delay, abort.signal);
        }
      }
    };
    void loop();
    const close = () => {
      abort.abort();
      closers.delete(close);
    };
    closers.add(close);
    return { close };
  };

  return {
    kind: 'consul',
    where: `consul agent ${config.address}`,
    async publish(reg: Registration): Promise<Publication> {
      let current = reg;
      let withdrawn = false;
      let heartbeat: LongTimer | undefined;
      const register = () =>
        put(`register ${reg.id}`, '/v1/agent/service/register', { body: registerBody(current) });
      const ttlUpdate = async () => {
        const verb = TTL_VERB[current.status];
        const r = await request('PUT', `/v1/agent/check/${verb}/${segment(checkId(current))}`, {
          query: { note: current.output ?? '' },
        });
        if (withdrawn) return;
        // the agent forgot the check (it restarted without its data dir): register again
        if (r.status !== 200) await register();
      };
      const beat = () => {
        if (withdrawn || closed) return;
        ttlUpdate()
          .catch(() => {
            // unreachable agent: the check turns critical after its TTL, which is what consumers should see
          })
          .finally(() => {
            if (!withdrawn && !closed) heartbeat = setLongTimeout(beat, Math.max(100, current.ttlMs / 2));
          });
      };
      await register();
      heartbeat = setLongTimeout(beat, Math.max(100, current.ttlMs / 2));
      const stop = () => {
        withdrawn = true;
        heartbeat?.clear();
        closers.delete(stop);
      };
      closers.add(stop);
      return {
        async update(status: InstanceStatus, output?: string) {
          current = { ...current, status, output };
          if (!withdrawn) await ttlUpdate();
        },
        async withdraw() {
          stop();
          const r = await request('PUT', `/v1/agent/service/deregister/${segment(reg.id)}`);
          // 404: already gone (the agent reaped it), which is what was asked
          if (r.status !== 200 && r.status !== 404)
            throw new ConsulHttpError(r.status, `deregister ${reg.id}`, r.body);
        },
        onLost() {
          // the agent keeps what it was told; a forgotten registration is redone by the heartbeat
        },
      };
    },
    instances: async (name) => (await healthOf(name, {})).list,
    watch: (name, onChange) => follow((q, signal, t) => healthOf(name, q, signal, t), onChange),
    catalog: async () => (await catalogOf({})).list,
    watchCatalog: (onChange) => follow((q, signal, t) => catalogOf(q, signal, t), onChange),
    async close() {
      closed = true;
      for (const c of [...closers]) c();
      http.close();
    },
  };
}

function indexOf(headers: IncomingHttpHeaders): number | undefined {
  const raw = headers['x-consul-index'];
  const text = Array.isArray(raw) ? raw[0] : raw;
  if (text === undefined || !/^\d+$/.test(text.trim())) return undefined;
  return Number(text);
}
