/**
 * A small stateful double of a Consul agent's HTTP API: KV (get, recurse, put with `acquire`/`release`/`cas`,
 * delete) and sessions (create, renew, destroy, info, TTL expiry), answering with the shapes, status codes and
 * headers Consul's API documentation gives, and holding blocking queries by its rules. Consul cannot be installed
 * here; where test/kv/fake-consul.ts replays recorded responses one by one, this one keeps state, so several
 * clients can contend (the rollout semaphore) and a session's end deletes its keys (the fleet document).
 *
 * The rules it follows (from Consul's KV, Session and Blocking Queries docs):
 *  - one raft-like index for every write; X-Consul-Index on every KV read is the highest ModifyIndex under the
 *    key or prefix, deletions (tombstones) included, else the store's index; a 404 carries it too;
 *  - `?index=N&wait=T`: answered at once when that index is past N, else held until a write under the key or
 *    prefix or until `wait` (default 5 min) passes, then answered with the state as it is;
 *  - `PUT ?acquire=S`: 500 `invalid session` for an unknown session; `false` when another session holds the key;
 *    else the value is written, `Session` set, and `LockIndex` incremented unless S held it already;
 *  - `PUT ?release=S`: `false` unless S holds the key; else `Session` cleared and the body written;
 *  - `PUT ?cas=N`: `false` unless N is the key's ModifyIndex (0: unless the key is absent);
 *  - a session not renewed within its TTL is invalidated (Consul waits up to twice the TTL; `ttlFactor`); an
 *    invalidated or destroyed session deletes (`Behavior: delete`) or releases (`release`) the keys it holds;
 *    renewing an unknown session is a 404;
 *  - with `token` set, a request without that X-Consul-Token is a 403.
 * `@hashicorp/consul-api-double` is not installed here: the shapes were held against the API docs only.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

interface KvRow {
  Key: string;
  Value: string | null;
  Flags: number;
  LockIndex: number;
  CreateIndex: number;
  ModifyIndex: number;
  Session?: string;
}

interface SessionRow {
  ID: string;
  Name: string;
  Node: string;
  LockDelay: number;
  Behavior: 'delete' | 'release';
  TTL: string;
  NodeChecks: string[];
  ServiceChecks: null;
  CreateIndex: number;
  ModifyIndex: number;
  /** not in Consul's answer: when the TTL runs out */
  expires?: number;
}

export interface ConsulDouble {
  readonly address: string;
  /** every request, in order: method, path, query and the token header */
  readonly requests: Array<{ method: string; path: string; query: URLSearchParams; token?: string }>;
  /** the current state of a key (undefined when absent), as Consul stores it */
  entry(key: string): KvRow | undefined;
  keys(prefix?: string): string[];
  sessions(): SessionRow[];
  /** what Consul does when a session's TTL runs out or its node fails: invalidates it now */
  invalidate(id: string): void;
  /** the next `n` requests that `match` are answered `500 No cluster leader` (Consul during an election) */
  failNext(n: number, match: (r: { method: string; path: string; query: URLSearchParams }) => boolean): void;
  /** while down, every connection is cut before an answer (an agent that went away) */
  setDown(down: boolean): void;
  close(): Promise<void>;
}

function parseDuration(text: string | null, fallbackMs: number): number {
  if (!text) return fallbackMs;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) return fallbackMs;
  const n = Number(m[1]);
  const unit = m[2] ?? 's';
  return n * (unit === 'ms' ? 1 : unit === 's' ? 1000 : unit === 'm' ? 60_000 : 3_600_000);
}

export async function startConsulDouble(
  opts: { token?: string; ttlFactor?: number } = {},
): Promise<ConsulDouble> {
  let index = 1;
  const kv = new Map<string, KvRow>();
  /** key → the index of its deletion (Consul keeps tombstones so that indexes never go backwards) */
  const tombstones = new Map<string, number>();
  const sessions = new Map<string, SessionRow>();
  const requests: ConsulDouble['requests'] = [];
  const held = new Set<{ covers: (key: string) => boolean; answer: () => void }>();
  let down = false;
  const failing: Array<{ left: number; match: Parameters<ConsulDouble['failNext']>[1] }> = [];

  const touched = (key: string) => {
    for (const h of [...held]) if (h.covers(key)) h.answer();
  };
  const write = (row: KvRow) => {
    kv.set(row.Key, row);
    tombstones.delete(row.Key);
    touched(row.Key);
  };
  const remove = (key: string) => {
    if (!kv.delete(key)) return;
    tombstones.set(key, ++index);
    touched(key);
  };

  const invalidate = (id: string) => {
    const s = sessions.get(id);
    if (!s) return;
    sessions.delete(id);
    index++;
    for (const row of [...kv.values()]) {
      if (row.Session !== id) continue;
      if (s.Behavior === 'delete') remove(row.Key);
      else {
        const { Session: _gone, ...rest } = row;
        write({ ...rest, ModifyIndex: ++index });
      }
    }
  };
  const reaper = setInterval(() => {
    const now = Date.now();
    for (const s of [...sessions.values()]) if (s.expires !== undefined && s.expires <= now) invalidate(s.ID);
  }, 100);
  const ttlMs = (s: SessionRow) => parseDuration(s.TTL, 0) * (opts.ttlFactor ?? 1);

  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(status, {
      'Content-Type': typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json',
      'X-Consul-Effective-Consistency': 'leader',
      'X-Consul-Knownleader': 'true',
      'X-Consul-Lastcontact': '0',
      ...headers,
    });
    res.end(text);
  };

  const kvRead = (key: string, q: URLSearchParams) => {
    const recurse = q.has('recurse');
    const covers = (k: string) => (recurse ? k.startsWith(key) : k === key);
    const rows = [...kv.values()].filter((r) => covers(r.Key)).sort((a, b) => (a.Key < b.Key ? -1 : 1));
    let at = 0;
    for (const r of rows) at = Math.max(at, r.ModifyIndex);
    for (const [k, i] of tombstones) if (covers(k)) at = Math.max(at, i);
    return { rows, index: at > 0 ? at : index, covers };
  };

  const handleKv = (
    req: IncomingMessage,
    res: ServerResponse,
    key: string,
    q: URLSearchParams,
    body: string,
  ) => {
    switch (req.method) {
      case 'GET': {
        const answer = () => {
          const { rows, index: at } = kvRead(key, q);
          const headers = { 'X-Consul-Index': String(at) };
          if (rows.length === 0) return send(res, 404, '', headers);
          send(res, 200, rows, headers);
        };
        const wantIndex = Number(q.get('index') ?? 0);
        const first = kvRead(key, q);
        if (!(wantIndex > 0) || first.index > wantIndex) return answer();
        const waitMs = Math.min(parseDuration(q.get('wait'), 300_000), 600_000);
        const h = {
          covers: first.covers,
          answer: () => {
            held.delete(h);
            clearTimeout(timer);
            if (!res.writableEnded && !res.destroyed) answer();
          },
        };
        const timer = setTimeout(h.answer, waitMs);
        held.add(h);
        res.on('close', () => {
          held.delete(h);
          clearTimeout(timer);
        });
        return;
      }
      case 'PUT': {
        const existing = kv.get(key);
        if (q.has('cas')) {
          const cas = Number(q.get('cas'));
          if (cas === 0 ? existing !== undefined : existing?.ModifyIndex !== cas)
            return send(res, 200, false);
        }
        const value = Buffer.from(body).toString('base64');
        const acquire = q.get('acquire');
        const release = q.get('release');
        if (acquire !== null) {
          if (!sessions.has(acquire)) return send(res, 500, `invalid session "${acquire}"`);
          if (existing?.Session !== undefined && existing.Session !== acquire) return send(res, 200, false);
          const i = ++index;
          write({
            Key: key,
            Value: value,
            Flags: existing?.Flags ?? 0,
            LockIndex: (existing?.LockIndex ?? 0) + (existing?.Session === acquire ? 0 : 1),
            CreateIndex: existing?.CreateIndex ?? i,
            ModifyIndex: i,
            Session: acquire,
          });
          return send(res, 200, true);
        }
        if (release !== null) {
          if (!existing || existing.Session !== release) return send(res, 200, false);
          const { Session: _gone, ...rest } = existing;
          write({ ...rest, Value: value, ModifyIndex: ++index });
          return send(res, 200, true);
        }
        const i = ++index;
        write({
          Key: key,
          Value: value,
          Flags: existing?.Flags ?? 0,
          LockIndex: existing?.LockIndex ?? 0,
          CreateIndex: existing?.CreateIndex ?? i,
          ModifyIndex: i,
          ...(existing?.Session !== undefined ? { Session: existing.Session } : {}),
        });
        return send(res, 200, true);
      }
      case 'DELETE': {
        if (q.has('cas')) {
          const existing = kv.get(key);
          if (existing?.ModifyIndex !== Number(q.get('cas'))) return send(res, 200, false);
        }
        const doomed = q.has('recurse') ? [...kv.keys()].filter((k) => k.startsWith(key)) : [key];
        for (const k of doomed) remove(k);
        return send(res, 200, true);
      }
      default:
        return send(res, 405, 'method not allowed');
    }
  };

  const handleSession = (req: IncomingMessage, res: ServerResponse, rest: string, body: string) => {
    const [op, id = ''] = rest.split('/');
    if (op === 'create' && req.method === 'PUT') {
      let spec: Partial<{ Name: string; TTL: string; Behavior: string; LockDelay: string }> = {};
      try {
        spec = body.trim() ? JSON.parse(body) : {};
      } catch {
        return send(res, 400, 'Request decode failed: invalid JSON');
      }
      if (spec.TTL !== undefined) {
        const ms = parseDuration(spec.TTL, -1);
        if (ms < 10_000 || ms > 86_400_000)
          return send(res, 400, `Invalid Session TTL '${ms * 1_000_000}', must be between [10s=24h0m0s]`);
      }
      if (spec.Behavior !== undefined && spec.Behavior !== 'delete' && spec.Behavior !== 'release')
        return send(res, 400, `Invalid Behavior setting '${spec.Behavior}'`);
      const i = ++index;
      const s: SessionRow = {
        ID: randomUUID(),
        Name: spec.Name ?? '',
        Node: 'node1',
        LockDelay: parseDuration(spec.LockDelay ?? '15s', 15_000) * 1_000_000,
        Behavior: (spec.Behavior as SessionRow['Behavior']) ?? 'release',
        TTL: spec.TTL ?? '',
        NodeChecks: ['serfHealth'],
        ServiceChecks: null,
        CreateIndex: i,
        ModifyIndex: i,
      };
      if (s.TTL) s.expires = Date.now() + ttlMs(s);
      sessions.set(s.ID, s);
      return send(res, 200, { ID: s.ID });
    }
    const visible = (s: SessionRow) => {
      const { expires: _e, ...shown } = s;
      return shown;
    };
    if (op === 'renew' && req.method === 'PUT') {
      const s = sessions.get(id);
      if (!s) return send(res, 404, `Session id '${id}' not found`);
      if (s.TTL) s.expires = Date.now() + ttlMs(s);
      return send(res, 200, [visible(s)]);
    }
    if (op === 'destroy' && req.method === 'PUT') {
      invalidate(id);
      return send(res, 200, true);
    }
    if (op === 'info' && req.method === 'GET') {
      const s = sessions.get(id);
      return send(res, 200, s ? [visible(s)] : [], { 'X-Consul-Index': String(index) });
    }
    return send(res, 405, 'method not allowed');
  };

  const server: Server = createServer((req, res) => {
    if (down) {
      req.socket.destroy();
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://double');
      const tokenHeader = req.headers['x-consul-token'];
      const token = Array.isArray(tokenHeader) ? tokenHeader[0] : tokenHeader;
      requests.push({ method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, token });
      if (opts.token !== undefined && token !== opts.token) return send(res, 403, 'Permission denied');
      const seen = { method: req.method ?? 'GET', path: url.pathname, query: url.searchParams };
      const fail = failing.find((f) => f.left > 0 && f.match(seen));
      if (fail) {
        fail.left--;
        return send(res, 500, 'No cluster leader');
      }
      const body = Buffer.concat(chunks).toString();
      if (url.pathname.startsWith('/v1/kv/')) {
        const key = url.pathname.slice('/v1/kv/'.length).split('/').map(decodeURIComponent).join('/');
        return handleKv(req, res, key, url.searchParams, body);
      }
      if (url.pathname.startsWith('/v1/session/'))
        return handleSession(req, res, url.pathname.slice('/v1/session/'.length), body);
      send(res, 404, `no such endpoint ${url.pathname}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;

  return {
    address: `127.0.0.1:${port}`,
    requests,
    entry: (key) => kv.get(key),
    keys: (prefix = '') => [...kv.keys()].filter((k) => k.startsWith(prefix)).sort(),
    sessions: () => [...sessions.values()],
    invalidate,
    failNext(n, match) {
      failing.push({ left: n, match });
    },
    setDown(value) {
      down = value;
      if (value) server.closeAllConnections();
    },
    close() {
      clearInterval(reaper);
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
