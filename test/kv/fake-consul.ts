/**
 * A recorded-response HTTP server standing in for a Consul agent. Each route (`GET /v1/kv/app/x`) has a queue of
 * recorded responses, served in order. A blocking query (`?index=`) that finds its queue empty is held open, as
 * Consul holds it until something changes; queuing a response later releases it. Any other request without a
 * recorded response gets a 599 so that a test that forgot one fails loudly.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';

export interface Recorded {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

export interface SeenRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: string;
}

const fixtureDir = join(import.meta.dirname, '../fixtures/consul');

export function fixture<T = Record<string, unknown>>(name: string): T {
  return JSON.parse(readFileSync(join(fixtureDir, name), 'utf8')) as T;
}

type Dynamic = (req: SeenRequest) => Recorded;

export interface FakeConsul {
  readonly port: number;
  readonly address: string;
  readonly requests: SeenRequest[];
  /** queues responses for `METHOD /path` */
  queue(route: string, ...responses: Recorded[]): void;
  /** answers every request of a route with a function (after the queue is empty) */
  always(route: string, fn: Dynamic): void;
  /** while down, every connection is destroyed before a response */
  setDown(down: boolean): void;
  requestsTo(route: string): SeenRequest[];
  close(): Promise<void>;
}

function send(res: ServerResponse, r: Recorded) {
  const body = r.body === undefined ? '' : typeof r.body === 'string' ? r.body : JSON.stringify(r.body);
  res.writeHead(r.status, r.headers ?? {});
  res.end(body);
}

export async function startFakeConsul(): Promise<FakeConsul> {
  const queues = new Map<string, Recorded[]>();
  const dynamic = new Map<string, Dynamic>();
  const held = new Map<string, ServerResponse[]>();
  const requests: SeenRequest[] = [];
  let down = false;

  const server: Server = createServer((req, res) => {
    if (down) {
      req.socket.destroy();
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://fake');
      const seen: SeenRequest = {
        method: req.method ?? 'GET',
        path: url.pathname,
        query: url.searchParams,
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
      };
      requests.push(seen);
      const route = `${seen.method} ${seen.path}`;
      const next = queues.get(route)?.shift();
      if (next) return send(res, next);
      const fn = dynamic.get(route);
      if (fn) return send(res, fn(seen));
      if (seen.method === 'GET' && seen.query.has('index')) {
        const list = held.get(route) ?? [];
        list.push(res);
        held.set(route, list);
        res.on('close', () => {
          const l = held.get(route);
          if (l)
            held.set(
              route,
              l.filter((r) => r !== res),
            );
        });
        return;
      }
      send(res, { status: 599, body: `no recorded response for ${route}` });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;

  return {
    port,
    address: `127.0.0.1:${port}`,
    requests,
    queue(route, ...responses) {
      const waiting = held.get(route) ?? [];
      const rest = [...responses];
      while (waiting.length > 0 && rest.length > 0) {
        const res = waiting.shift() as ServerResponse;
        send(res, rest.shift() as Recorded);
      }
      queues.set(route, [...(queues.get(route) ?? []), ...rest]);
    },
    always(route, fn) {
      dynamic.set(route, fn);
    },
    setDown(value) {
      down = value;
      if (value) {
        for (const list of held.values()) for (const res of list) res.socket?.destroy();
        held.clear();
      }
    },
    requestsTo: (route) => requests.filter((r) => `${r.method} ${r.path}` === route),
    close() {
      for (const list of held.values()) for (const res of list) res.socket?.destroy();
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
