/**
 * consul-template's catalog functions over a Consul agent's HTTP API, as its API documentation gives them:
 *
 *   nodes             GET /v1/catalog/nodes?dc=&near=                 blocking
 *   node              GET /v1/catalog/node/<name>?dc=                 blocking; no name: GET /v1/agent/self's NodeName
 *   datacenters       GET /v1/catalog/datacenters                     not blocking: polled (consul-template: 15 s);
 *                     with ignoreFailing, a datacenter that does not answer GET /v1/catalog/services?dc=X is left out
 *   partitions        GET /v1/partitions                              Enterprise; not blocking: polled
 *   peerings          GET /v1/peerings?partition=                     blocking
 *   exportedServices  GET /v1/exported-services?partition=            blocking
 *   importedServices  GET /v1/imported-services?partition=            blocking
 *   connect           GET /v1/health/connect/<name>?dc=&ns=&partition=&peer=&sg=&near=   blocking
 *   caRoots           GET /v1/agent/connect/ca/roots                  blocking
 *   caLeaf            GET /v1/agent/connect/ca/leaf/<service>         blocking
 *
 * Blocking queries follow the registry's index rules (consul-registry.ts): no index first and after an error,
 * an index that goes backwards resets to 0, one below 1 is used as 1, errors back off.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { type ConsulKvConfig, createConsulHttp } from '../kv/index.js';
import { type CatalogRequest, CatalogUnsupported } from '../template/index.js';
import { instanceFromHealth } from './consul-registry.js';
import { goDuration, sameList, sortInstances } from './record.js';
import type { Watch } from './types.js';

export interface ConsulCatalogTiming {
  requestTimeoutMs: number;
  minQueryIntervalMs: number;
  backoffInitialMs: number;
  backoffMaxMs: number;
  /** how often endpoints without blocking queries (datacenters, partitions) are read again */
  pollMs: number;
}

const defaultTiming: ConsulCatalogTiming = {
  requestTimeoutMs: 10_000,
  minQueryIntervalMs: 500,
  backoffInitialMs: 200,
  backoffMaxMs: 5_000,
  pollMs: 15_000,
};

export interface ConsulCatalog {
  /** the answer to `req` in the shape of CatalogAnswers; a Consul error rejects */
  read(req: CatalogRequest): Promise<unknown>;
  /** the answer once known, then every change (blocking queries; polling where Consul has none) */
  watch(req: CatalogRequest, onChange: (answer: unknown) => void): Watch;
  close(): void;
}

type Q = Record<string, string>;
const seg = (t: string) => encodeURIComponent(t);
const str = (v: unknown) => (typeof v === 'string' ? v : '');
const num = (v: unknown) => (typeof v === 'number' ? v : 0);
const strMap = (v: unknown): Record<string, string> =>
  v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, str(x)])) : {};
const strList = (v: unknown): string[] => (Array.isArray(v) ? v.map(str) : []);
const obj = (v: unknown): Record<string, unknown> =>
  v && typeof v === 'object' ? (v as Record<string, unknown>) : {};

function nodeInfo(v: unknown) {
  const n = obj(v);
  return {
    ID: str(n.ID),
    Node: str(n.Node),
    Address: str(n.Address),
    Datacenter: str(n.Datacenter),
    TaggedAddresses: strMap(n.TaggedAddresses),
    Meta: strMap(n.Meta),
  };
}

function indexOf(headers: IncomingHttpHeaders): number | undefined {
  const raw = headers['x-consul-index'];
  const text = Array.isArray(raw) ? raw[0] : raw;
  if (text === undefined || !/^\d+$/.test(text.trim())) return undefined;
  return Number(text);
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });

export function consulCatalog(
  config: ConsulKvConfig,
  opts: { timing?: Partial<ConsulCatalogTiming> } = {},
): ConsulCatalog {
  const timing = { ...defaultTiming, ...opts.timing };
  const http = createConsulHttp(config, { requestTimeoutMs: timing.requestTimeoutMs });
  const closers = new Set<() => void>();

  interface Got {
    body: unknown;
    index?: number;
  }
  /** GET; `dc` adds the URL's datacenter unless the query names one */
  const get = async (
    what: string,
    path: string,
    query: Q,
    o: { dc?: boolean; signal?: AbortSignal; timeoutMs?: number; notFound?: () => Got } = {},
  ): Promise<Got> => {
    const useDc = (o.dc ?? false) && query.dc === undefined;
    const r = await http.request('GET', path, { query, dc: useDc, signal: o.signal, timeoutMs: o.timeoutMs });
    if (r.status === 404 && o.notFound) return o.notFound();
    if (r.status !== 200) {
      throw new Error(
        `${what}: Consul answered HTTP ${r.status}${r.body.trim() ? `: ${r.body.trim().slice(0, 200)}` : ''}`,
      );
    }
    return { body: r.body.trim() === '' ? null : JSON.parse(r.body), index: indexOf(r.headers) };
  };

  let localNode: string | undefined;
  const nodeName = async (signal?: AbortSignal) => {
    if (localNode !== undefined) return localNode;
    const self = await get('agent self', '/v1/agent/self', {}, { signal });
    localNode = str(obj(obj(self.body).Config).NodeName);
    return localNode;
  };

  /** one query; `extra` carries index/wait; answers in CatalogAnswers' shapes */
  async function query(
    req: CatalogRequest,
    extra: Q,
    signal?: AbortSignal,
    timeoutMs?: number,
  ): Promise<{ answer: unknown; index?: number; blocking: boolean }> {
    const o = { signal, timeoutMs };
    switch (req.kind) {
      case 'nodes': {
        const q: Q = { ...extra };
        if (req.dc) q.dc = req.dc;
        if (req.near) q.near = req.near;
        const g = await get('catalog nodes', '/v1/catalog/nodes', q, { ...o, dc: true });
        return {
          answer: (Array.isArray(g.body) ? g.body : []).map(nodeInfo),
          index: g.index,
          blocking: true,
        };
      }
      case 'node': {
        const name = req.name || (await nodeName(signal));
        const q: Q = { ...extra };
        if (req.dc) q.dc = req.dc;
        const g = await get(`catalog node ${name}`, `/v1/catalog/node/${seg(name)}`, q, {
          ...o,
          dc: true,
          notFound: () => ({ body: null }),
        });
        if (g.body === null) return { answer: null, index: g.index, blocking: true };
        const b = obj(g.body);
        // Services is a map by service ID in /v1/catalog/node (a list in /v1/catalog/node-services)
        const svcs = Array.isArray(b.Services) ? b.Services : Object.values(obj(b.Services));
        const answer = {
          Node: nodeInfo(b.Node),
          Services: svcs.map((v) => {
            const s = obj(v);
            return {
              ID: str(s.ID),
              Service: str(s.Service),
              Tags: strList(s.Tags),
              Meta: strMap(s.Meta),
              Port: num(s.Port),
              Address: str(s.Address),
              EnableTagOverride: s.EnableTagOverride === true,
            };
          }),
        };
        return { answer, index: g.index, blocking: true };
      }
      case 'datacenters': {
        const g = await get('catalog datacenters', '/v1/catalog/datacenters', {}, o);
        let dcs = strList(g.body);
        if (req.ignoreFailing) {
          const up = await Promise.all(
            dcs.map((dc) =>
              get('catalog services', '/v1/catalog/services', { dc, consistent: '' }, o).then(
                () => true,
                () => false,
              ),
            ),
          );
          dcs = dcs.filter((_, i) => up[i]);
        }
        return { answer: dcs, blocking: false };
      }
      case 'partitions': {
        const g = await get(
          'list.partitions',
          '/v1/partitions',
          {},
          {
            ...o,
            notFound: () => {
              throw new CatalogUnsupported(
                'partitions: Consul answered 404 for /v1/partitions: admin partitions are a Consul Enterprise feature',
              );
            },
          },
        );
        const answer = (Array.isArray(g.body) ? g.body : []).map((v) => ({
          Name: str(obj(v).Name),
          Description: str(obj(v).Description),
        }));
        return { answer, blocking: false };
      }
      case 'peerings': {
        const q: Q = { ...extra };
        if (req.partition) q.partition = req.partition;
        const g = await get('list.peerings', '/v1/peerings', q, o);
        const answer = (Array.isArray(g.body) ? g.body : []).map((v) => {
          const p = obj(v);
          const ss = obj(p.StreamStatus);
          const time = (t: unknown) => (typeof t === 'string' && t !== '' ? t : null);
          return {
            ID: str(p.ID),
            Name: str(p.Name),
            Partition: str(p.Partition),
            Meta: strMap(p.Meta),
            PeeringState: str(p.State),
            PeerID: str(p.PeerID),
            PeerServerName: str(p.PeerServerName),
            PeerServerAddresses: strList(p.PeerServerAddresses),
            StreamStatus: {
              ImportedServices: strList(ss.ImportedServices),
              ExportedServices: strList(ss.ExportedServices),
              LastHeartbeat: time(ss.LastHeartbeat),
              LastReceive: time(ss.LastReceive),
              LastSend: time(ss.LastSend),
            },
            Remote: { Partition: str(obj(p.Remote).Partition), Datacenter: str(obj(p.Remote).Datacenter) },
          };
        });
        return { answer, index: g.index, blocking: true };
      }
      case 'exportedServices': {
        const q: Q = { ...extra };
        if (req.partition) q.partition = req.partition;
        const g = await get('list.exportedServices', '/v1/exported-services', q, o);
        // consul-template 0.42 copies the service name and its consumers (Partition and Namespace stay empty)
        const answer = (Array.isArray(g.body) ? g.body : []).map((v) => {
          const e = obj(v);
          return {
            Service: str(e.Service),
            Partition: '',
            Namespace: '',
            Consumers: {
              Peers: strList(obj(e.Consumers).Peers),
              Partitions: strList(obj(e.Consumers).Partitions),
            },
          };
        });
        return { answer, index: g.index, blocking: true };
      }
      case 'importedServices': {
        const q: Q = { ...extra };
        if (req.partition) q.partition = req.partition;
        const g = await get('list.importedServices', '/v1/imported-services', q, o);
        const list = obj(g.body).ImportedServices;
        const answer = (Array.isArray(list) ? list : []).map((v) => ({
          Service: str(obj(v).Service),
          Namespace: str(obj(v).Namespace),
          SourcePartition: str(obj(v).SourcePartition),
        }));
        return { answer, index: g.index, blocking: true };
      }
      case 'connect': {
        const q: Q = { ...extra };
        const so = req.opts;
        if (so.dc) q.dc = so.dc;
        if (so.near) q.near = so.near;
        if (so.ns !== undefined) q.ns = so.ns;
        if (so.partition !== undefined) q.partition = so.partition;
        if (so.peer !== undefined) q.peer = so.peer;
        if (so.samenessGroup !== undefined) q['sameness-group'] = so.samenessGroup;
        const g = await get(`health connect ${req.name}`, `/v1/health/connect/${seg(req.name)}`, q, {
          ...o,
          dc: true,
        });
        const list = (Array.isArray(g.body) ? g.body : []).map((e) => instanceFromHealth(obj(e)));
        return { answer: so.near ? list : sortInstances(list), index: g.index, blocking: true };
      }
      case 'caRoots': {
        const g = await get('connect ca roots', '/v1/agent/connect/ca/roots', { ...extra }, o);
        const roots = obj(g.body).Roots;
        const answer = (Array.isArray(roots) ? roots : []).map((v) => {
          const r = obj(v);
          return {
            ID: str(r.ID),
            Name: str(r.Name),
            RootCertPEM: str(r.RootCert),
            Active: r.Active === true,
            CreateIndex: num(r.CreateIndex),
            ModifyIndex: num(r.ModifyIndex),
          };
        });
        return { answer, index: g.index, blocking: true };
      }
      case 'caLeaf': {
        const g = await get(
          `connect ca leaf ${req.service}`,
          `/v1/agent/connect/ca/leaf/${seg(req.service)}`,
          {
            ...extra,
          },
          o,
        );
        const l = obj(g.body);
        const answer = {
          SerialNumber: str(l.SerialNumber),
          CertPEM: str(l.CertPEM),
          PrivateKeyPEM: str(l.PrivateKeyPEM),
          Service: str(l.Service),
          ServiceURI: str(l.ServiceURI),
          ValidAfter: str(l.ValidAfter),
          ValidBefore: str(l.ValidBefore),
          CreateIndex: num(l.CreateIndex),
          ModifyIndex: num(l.ModifyIndex),
        };
        return { answer, index: g.index, blocking: true };
      }
      default: {
        const never: never = req;
        throw new Error(`unknown catalog request ${JSON.stringify(never)}`);
      }
    }
  }

  return {
    read: async (req) => (await query(req, {})).answer,
    watch(req, onChange) {
      const abort = new AbortController();
      let last: unknown;
      let known = false;
      const loop = async () => {
        let index = 0;
        let failures = 0;
        let lastStart = 0;
        while (!abort.signal.aborted) {
          const gap = lastStart + timing.minQueryIntervalMs - Date.now();
          if (gap > 0) await sleep(gap, abort.signal);
          if (abort.signal.aborted) return;
          lastStart = Date.now();
          const q: Q = {};
          if (index > 0) {
            q.index = String(index);
            q.wait = goDuration(config.waitMs);
          }
          try {
            const r = await query(
              req,
              q,
              abort.signal,
              config.waitMs + config.waitMs / 16 + timing.requestTimeoutMs,
            );
            failures = 0;
            if (!known || !sameList([last], [r.answer])) {
              known = true;
              last = r.answer;
              onChange(r.answer);
            }
            // an endpoint without blocking queries (or an answer without X-Consul-Index) is polled, not spun on
            if (!r.blocking || r.index === undefined) {
              await sleep(timing.pollMs, abort.signal);
              continue;
            }
            const next = r.index ?? 0;
            index = next < index ? 0 : Math.max(1, next);
          } catch {
            if (abort.signal.aborted) return;
            index = 0;
            const delay = Math.min(
              timing.backoffMaxMs,
              timing.backoffInitialMs * 2 ** Math.min(failures++, 16),
            );
            await sleep(delay * (0.8 + Math.random() * 0.4), abort.signal);
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
    },
    close() {
      for (const c of [...closers]) c();
      http.close();
    },
  };
}
