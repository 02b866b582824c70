/**
 * The control plane's HTTP server: one request handler behind two listeners, the unix socket (the CLI's way
 * in; file mode 0600 is its access control) and the optional TCP listener (dashboard, Prometheus, probes).
 * Routes are listed in index.ts; who may use which is decided in access.ts.
 */
import { chmodSync, unlinkSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { dirname } from 'node:path';
import {
  anotherTendMessage,
  type ControlState,
  EXIT,
  type FleetReading,
  ReloadError,
  type Runtime,
  StartError,
} from '../runtime/index.js';
import { getPath } from '../settings/path.js';
import { isTransient, isWaiting } from '../supervisor/index.js';
import { setLongTimeout, withTimeout as timeLimit } from '../time/index.js';
import {
  isLoopbackHost,
  type Listener,
  makeToken,
  refusal,
  removeTokenFile,
  STREAMS_PER_CLIENT,
  STREAMS_TOTAL,
  streamBudget,
  takeStream,
  writeTokenFile,
} from './access.js';
import { tokenPathOf } from './locate.js';
import { samplesOf } from './samples.js';
import { notReadyReason, serviceView, statusView } from './status.js';
import { serveEvents, serveLogs } from './streams.js';
import type { ActionResult, ErrorBody } from './types.js';

export { isLoopbackHost };

/** EXIT.usage: an address that cannot be used is the caller's to fix */
export const REFUSED_EXIT = 2;

export interface ControlServerOptions {
  rt: Runtime;
  socketPath: string;
  /** TCP address: `PORT`, `:PORT`, `HOST:PORT`, `[V6]:PORT` */
  http?: string;
}

export interface ControlServer {
  socketPath: string;
  httpUrl?: string;
  /** the token tend made because TEND_TOKEN was unset (shown in the dashboard URL it prints) */
  madeToken?: string;
  close(): Promise<void>;
}

const MAX_SOCKET_PATH = 107;
const MAX_BODY = 64 * 1024;
const DEFAULT_ACTION_WAIT_MS = 10_000;
/**
 * Connections one listener keeps open; past it new ones are closed at once. Each costs a file descriptor and
 * may hold an answer a client does not read: without a bound, clients that connect and never read (or a
 * flood on the loopback listener, open to every local user) exhaust tend's descriptors, after which services
 * cannot even be spawned. The unix socket has its own budget, so the CLI still gets through a TCP flood.
 * Streams are bounded well below it (STREAMS_TOTAL), so idle streams never take the probes' connections.
 */
export const MAX_CONNECTIONS = 256;
/** A complete answer (status, logs, …) a client has not taken within this long is dropped, freeing its memory. */
export const STALL_MS = 30_000;
/**
 * Bytes of whole answers waiting for their clients, past which `/api/logs` answers 503 until they drain or
 * are dropped. One answer of 100 000 lines is ~13 MB (and ~3× that while it is built, so log answers are
 * built one at a time): never-reading clients asking for it must not add up to gigabytes.
 */
export const MAX_UNREAD_BYTES = 64 * 1024 * 1024;
let unreadBytes = 0;
let logsTurn: Promise<unknown> = Promise.resolve();

export async function startControlServer(opts: ControlServerOptions): Promise<ControlServer> {
  const { rt, socketPath } = opts;
  const cs = rt.control;
  // CPU and memory charts, restarts, job runs: collected from the start of the run
  const samples = samplesOf(rt);
  const servers: Server[] = [];
  const make = (l: Listener) => {
    const s = createServer((req, res) => {
      handle(rt, cs, l, req, res)
        .catch((err: unknown) => {
          if (!res.headersSent) send(res, 500, { error: `internal error: ${(err as Error).message}` });
          else res.destroy();
        })
        .finally(() => dropIfStalled(res));
    });
    s.maxConnections = MAX_CONNECTIONS;
    // A client that opens a connection and sends nothing holds it until headersTimeout; one that sends a
    // request slowly, until requestTimeout (the time to receive a request, not to answer it: streams last).
    s.headersTimeout = 10_000;
    s.requestTimeout = 30_000;
    s.keepAliveTimeout = 5_000;
    // Once listening, an error (e.g. out of file descriptors on accept) is reported, never fatal to tend.
    s.on('error', (err) => {
      if (s.listening) process.stderr.write(`tend: control ${l.kind} listener: ${err.message}\n`);
    });
    servers.push(s);
    return s;
  };

  // the socket's clients are tend's user: no per-client bound, only one in all
  await listenUnix(
    make({ kind: 'unix', loopback: true, streams: streamBudget(STREAMS_TOTAL, STREAMS_TOTAL) }),
    socketPath,
  );
  let httpUrl: string | undefined;
  let madeToken: string | undefined;
  const tokenFile = tokenPathOf(dirname(socketPath));
  try {
    if (opts.http) {
      const { host, port } = parseListenAddress(opts.http);
      // Without TEND_TOKEN tend makes one: every local user can reach a loopback port.
      const token = rt.env.TEND_TOKEN || makeToken();
      if (!rt.env.TEND_TOKEN) {
        madeToken = token;
        writeTokenFile(tokenFile, token);
      }
      // Loopback or not is decided by the address the socket got, not the name: `localhost` in /etc/hosts
      // could point anywhere, and the Host and Origin checks must not depend on it.
      const listener: Listener = {
        kind: 'tcp',
        loopback: false,
        token,
        streams: streamBudget(STREAMS_PER_CLIENT, STREAMS_TOTAL),
      };
      const bound = await listenTcp(make(listener), host, port, opts.http);
      listener.loopback = host !== '' && isLoopbackHost(bound.address);
      httpUrl = `http://${bound.shown}/`;
    }
  } catch (err) {
    samples.close();
    await closeAll(servers, socketPath, madeToken ? tokenFile : undefined);
    throw err;
  }

  return {
    socketPath,
    httpUrl,
    madeToken,
    close: () => {
      samples.close();
      return closeAll(servers, socketPath, madeToken ? tokenFile : undefined);
    },
  };
}

async function closeAll(servers: Server[], socketPath: string, tokenFile?: string) {
  if (tokenFile) removeTokenFile(tokenFile);
  await Promise.all(
    servers.map(
      (s) =>
        new Promise<void>((resolve) => {
          if (!s.listening) return resolve();
          s.close(() => resolve());
          s.closeAllConnections();
        }),
    ),
  );
  try {
    unlinkSync(socketPath);
  } catch {
    // already gone (or never ours)
  }
}

/** Listens on the unix socket, replacing a stale one and refusing to start next to a live tend. */
async function listenUnix(server: Server, path: string) {
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH) {
    throw new StartError(
      `the control socket path ${path} is longer than ${MAX_SOCKET_PATH} bytes, which unix sockets do not allow; set a shorter state_dir`,
      REFUSED_EXIT,
    );
  }
  try {
    await listenOnce(server, path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') {
      throw new StartError(
        `cannot create the control socket ${path}: ${(err as Error).message}; check that state_dir is writable`,
        1,
      );
    }
    if (await socketAnswers(path)) {
      // Normally the pid-file lock (src/guard) refuses first; this is the same answer for a tend without it.
      throw new StartError(anotherTendMessage(0, dirname(path)), EXIT.internal);
    }
    // Left behind by a tend that died: nobody listens, so it is ours to replace.
    unlinkSync(path);
    await listenOnce(server, path);
  }
  chmodSync(path, 0o600);
}

function listenOnce(server: Server, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    // The socket file is created by bind(): a umask makes it 0600 from the first moment, not after a chmod.
    const umask = process.umask(0o177);
    try {
      server.listen(path, () => {
        server.off('error', onError);
        resolve();
      });
    } finally {
      process.umask(umask);
    }
  });
}

/** Resolves with the bound address (numeric) and how to show it (a local URL for "every interface"). */
function listenTcp(
  server: Server,
  host: string,
  port: number,
  given: string,
): Promise<{ address: string; shown: string }> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      const why = err.code === 'EADDRINUSE' ? 'the address is in use' : err.message;
      reject(
        new StartError(
          `cannot listen on http ${given}: ${why}; choose another with --http or http:`,
          REFUSED_EXIT,
        ),
      );
    };
    server.once('error', onError);
    server.listen({ host: host || undefined, port }, () => {
      server.off('error', onError);
      const a = server.address();
      if (a && typeof a === 'object') {
        const h = host === '' ? '127.0.0.1' : a.family === 'IPv6' ? `[${a.address}]` : a.address;
        resolve({ address: a.address, shown: `${h}:${a.port}` });
      } else resolve({ address: '', shown: given });
    });
  });
}

/** Whether something accepts connections on the socket (a live tend) rather than refusing them (stale). */
function socketAnswers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const c = connect(path);
    const done = (alive: boolean) => {
      clearTimeout(timer);
      c.destroy();
      resolve(alive);
    };
    // A tend too busy to accept within a second is still alive: refusing is the safe side.
    const timer = setTimeout(() => done(true), 1000);
    c.once('connect', () => done(true));
    c.once('error', () => done(false));
  });
}

export function parseListenAddress(addr: string): { host: string; port: number } {
  const text = addr
    .trim()
    .replace(/^https?:\/\//, '')
    .replace(/\/$/, '');
  // a bare port is loopback, as `http: 7070` in the manifest: one meaning for the flag, the number and the
  // string `${PORT}` gives; `:7070` (nothing before the colon) is every interface
  if (/^\d+$/.test(text)) return parseListenAddress(`127.0.0.1:${text}`);
  let host = '';
  let portText = text;
  const v6 = /^\[([^\]]+)\]:(\d+)$/.exec(text);
  if (v6) {
    host = v6[1];
    portText = v6[2];
  } else if (text.includes(':')) {
    const i = text.lastIndexOf(':');
    host = text.slice(0, i);
    portText = text.slice(i + 1);
  }
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535) {
    throw new StartError(
      `http address ${JSON.stringify(addr)} is not HOST:PORT (e.g. 127.0.0.1:7070, :7070 or [::1]:7070)`,
      REFUSED_EXIT,
    );
  }
  return { host, port };
}

/**
 * An answer that was ended but not yet handed to the kernel waits on its client to read. Streams (SSE, log
 * followers) are not ended and bound their own backlog; a whole answer gets STALL_MS, then the connection goes.
 */
const guarded = new WeakSet<ServerResponse>();

function dropIfStalled(res: ServerResponse): void {
  if (!res.writableEnded || res.writableFinished || res.destroyed || guarded.has(res)) return;
  guarded.add(res);
  const held = res.writableLength;
  unreadBytes += held;
  const timer = setTimeout(() => res.destroy(), STALL_MS);
  timer.unref();
  let cleared = false;
  const clear = () => {
    if (cleared) return;
    cleared = true;
    clearTimeout(timer);
    unreadBytes -= held;
  };
  res.once('finish', clear);
  res.once('close', clear);
}

function send(res: ServerResponse, status: number, body: unknown) {
  const text = `${JSON.stringify(body, null, 2)}\n`;
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

function sendText(res: ServerResponse, status: number, text: string, type = 'text/plain; charset=utf-8') {
  res.writeHead(status, {
    'content-type': type,
    'cache-control': 'no-store',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

const fail = (res: ServerResponse, status: number, error: string, extra: Partial<ErrorBody> = {}) =>
  send(res, status, { error, ...extra } satisfies ErrorBody);

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new HttpError(413, 'request body too large');
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpError(400, 'request body is not JSON');
  }
}

const ON_OFF = new Map([
  ['true', true],
  ['1', true],
  ['false', false],
  ['0', false],
]);

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function handle(rt: Runtime, cs: ControlState, l: Listener, req: IncomingMessage, res: ServerResponse) {
  const url = new URL(req.url ?? '/', 'http://tend');
  const method = req.method === 'HEAD' ? 'GET' : (req.method ?? 'GET');
  const path = url.pathname.replace(/\/+$/, '') || '/';
  const denied = refusal(req, l, path, method !== 'GET');
  if (denied) {
    const [status, message] = denied;
    if (status === 401) res.setHeader('www-authenticate', 'Bearer realm="tend"');
    return fail(res, status, message);
  }
  try {
    await route(rt, cs, l, req, res, url, method, path);
  } catch (err) {
    if (err instanceof HttpError) return fail(res, err.status, err.message);
    throw err;
  }
}

const ACTIONS = new Set(['start', 'stop', 'restart']);

async function route(
  rt: Runtime,
  cs: ControlState,
  l: Listener,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  method: string,
  path: string,
) {
  const only = (m: string) => {
    if (method !== m) throw new HttpError(405, `${path} answers ${m} only`);
  };
  const q = url.searchParams;

  if (path === '/healthz') {
    only('GET');
    return sendText(res, 200, 'ok\n');
  }
  if (path === '/readyz') {
    only('GET');
    const why = notReadyReason(rt, cs);
    return why === undefined ? sendText(res, 200, 'ready\n') : sendText(res, 503, `not ready: ${why}\n`);
  }
  if (path === '/metrics') {
    only('GET');
    const { contentType, body } = await rt.metrics.scrape();
    return sendText(res, 200, body, contentType);
  }
  if (path === '/' || path === '/index.html') {
    only('GET');
    // not frameable (clickjacking the Stop button), and the token in the address never leaves as a Referer
    res.setHeader(
      'content-security-policy',
      "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    );
    res.setHeader('x-frame-options', 'DENY');
    res.setHeader('referrer-policy', 'no-referrer');
    res.setHeader('x-content-type-options', 'nosniff');
    // 36 kB of page that most runs never serve: loaded at the first request for it
    const { DASHBOARD_HTML } = await import('./dashboard.js');
    return sendText(res, 200, DASHBOARD_HTML, 'text/html; charset=utf-8');
  }
  if (path === '/api') {
    only('GET');
    return send(res, 200, { routes: ROUTES });
  }
  if (path === '/api/status') {
    only('GET');
    return send(res, 200, statusView(rt, cs));
  }
  if (path === '/api/fleet') {
    only('GET');
    return send(res, 200, await readFleetOnce(rt, q.has('all') ? undefined : (q.get('app') ?? cs.plan.name)));
  }
  if (path === '/api/samples') {
    only('GET');
    return send(res, 200, samplesOf(rt).view());
  }
  const svc = /^\/api\/services\/([^/]+)(?:\/([a-z]+))?$/.exec(path);
  if (svc) {
    let name: string;
    try {
      name = decodeURIComponent(svc[1]);
    } catch {
      throw new HttpError(400, `bad service name in ${path}`);
    }
    const action = svc[2];
    if (!rt.stack.runner(name)) {
      const known = rt.stack.names();
      throw new HttpError(
        404,
        `no service ${JSON.stringify(name)} in this tend (services: ${known.join(', ') || 'none'})`,
      );
    }
    if (action === undefined) {
      only('GET');
      return send(res, 200, serviceView(rt, cs, name));
    }
    if (!ACTIONS.has(action))
      throw new HttpError(404, `unknown action ${action}: use start, stop or restart`);
    only('POST');
    const waitText = q.get('wait');
    const wait = waitText === null ? DEFAULT_ACTION_WAIT_MS : Number(waitText);
    if (!Number.isFinite(wait) || wait < 0 || waitText === '')
      throw new HttpError(400, 'wait must be a number of milliseconds (0: do not wait)');
    return send(res, 200, await act(rt, cs, name, action as ActionResult['action'], wait));
  }
  if (path === '/api/shutdown') {
    // `tend down`: answer first (with the pid to wait for), then stop as SIGTERM would
    only('POST');
    send(res, 202, { pid: process.pid, stopping: true });
    setImmediate(() => void rt.shutdown(EXIT.ok, 'tend down'));
    return;
  }
  if (path === '/api/reload') {
    only('POST');
    try {
      return send(res, 200, await rt.reload());
    } catch (err) {
      if (err instanceof ReloadError) return fail(res, err.status, err.message, { issues: err.issues });
      throw err;
    }
  }
  if (path === '/api/maintenance') {
    if (method === 'POST') {
      const body = (await readBody(req)) as { on?: unknown } | undefined;
      const onText = q.get('on');
      const fromQuery = onText === null ? undefined : ON_OFF.get(onText);
      if (onText !== null && fromQuery === undefined)
        throw new HttpError(400, `on=${onText}: use on=true or on=false (or 1, 0)`);
      const on = body?.on ?? fromQuery;
      if (typeof on !== 'boolean') throw new HttpError(400, 'send {"on": true} or {"on": false}');
      cs.setMaintenance(on);
    } else only('GET');
    return send(res, 200, { maintenance: cs.maintenance() });
  }
  if (path === '/api/cfg') {
    only('GET');
    let settings: Record<string, unknown>;
    try {
      settings = rt.settings();
    } catch (err) {
      throw new HttpError(503, `settings are not available yet (${(err as Error).message})`);
    }
    const p = q.get('path') ?? '';
    const value = getPath(settings, p);
    if (value === undefined) throw new HttpError(404, `no setting at ${p}`);
    return send(res, 200, { path: p, value });
  }
  if (path === '/api/logs') {
    only('GET');
    const service = q.get('service') ?? '';
    if (service && !rt.stack.runner(service)) {
      throw new HttpError(
        404,
        `no service ${JSON.stringify(service)} (services: ${rt.stack.names().join(', ')})`,
      );
    }
    const n = q.has('n') ? Number(q.get('n')) : 100;
    if (!Number.isInteger(n) || n < 0) throw new HttpError(400, 'n must be a whole number of lines');
    const follow = q.get('follow') === '1' || q.get('follow') === 'true';
    const services = service ? [service] : rt.stack.names();
    const opts = { services, all: !service, n: Math.min(n, 100_000), follow };
    if (follow) {
      if (openStream(l, req, res)) await serveLogs(rt, res, opts);
      return;
    }
    // one at a time: building a big answer takes several times its size
    const turn = logsTurn.then(async () => {
      if (res.destroyed) return;
      if (unreadBytes > MAX_UNREAD_BYTES) {
        throw new HttpError(
          503,
          `${Math.round(unreadBytes / 2 ** 20)} MB of answers wait for clients that do not read them; try again later`,
        );
      }
      await serveLogs(rt, res, opts);
      dropIfStalled(res);
    });
    logsTurn = turn.catch(() => undefined);
    return turn;
  }
  if (path === '/api/events') {
    only('GET');
    if (openStream(l, req, res)) serveEvents(rt, req, res, url);
    return;
  }
  throw new HttpError(404, `no route ${path}; GET /api lists them`);
}

/** How long `/api/fleet` waits for the store, as `tend fleet --timeout` does by default. */
export const FLEET_READ_MS = 5_000;
/** Reads in flight per run and app: several open pages polling at once cost the store one read. */
const fleetReads = new WeakMap<Runtime, Map<string, Promise<FleetReading>>>();

/**
 * The fleet documents in the store (`tend fleet --json`, and whether this tend publishes). Every value is another
 * tend's (or anyone's who may write under `fleet/`): served as data, never interpreted here or by the page.
 */
function readFleetOnce(rt: Runtime, app: string | undefined): Promise<FleetReading> {
  const read = rt.fleet;
  if (!read) throw new HttpError(404, 'this tend serves no fleet view');
  const id = app === undefined ? '\0all' : app;
  let reads = fleetReads.get(rt);
  if (!reads) {
    reads = new Map();
    fleetReads.set(rt, reads);
  }
  const inFlight = reads;
  let p = inFlight.get(id);
  if (!p) {
    p = timeLimit(read({ app }), FLEET_READ_MS, () => {
      throw new HttpError(
        503,
        `the KV store (${rt.kv.url}) did not answer within ${FLEET_READ_MS / 1000}s; the fleet view reads it`,
      );
    })
      .catch((e: unknown) => {
        if (e instanceof HttpError) throw e;
        throw new HttpError(503, `cannot read the fleet from the KV store: ${(e as Error).message}`);
      })
      .finally(() => inFlight.delete(id));
    inFlight.set(id, p);
  }
  return p;
}

/** Takes a stream of the listener's budget until the answer closes; answers 429 and returns false past it. */
function openStream(l: Listener, req: IncomingMessage, res: ServerResponse): boolean {
  const taken = takeStream(l.streams, req);
  if (typeof taken === 'string') {
    res.setHeader('retry-after', '10');
    // closed after the answer: a refused client keeps no connection either
    res.setHeader('connection', 'close');
    fail(res, 429, `too many streams: ${taken}; close one or try again later`);
    return false;
  }
  res.once('close', taken);
  return true;
}

/**
 * Performs an action and answers once it has taken effect (stop: no process left; start/restart: the new
 * process runs or the service settled otherwise), or after `waitMs`, whichever comes first.
 */
async function act(
  rt: Runtime,
  cs: ControlState,
  name: string,
  action: ActionResult['action'],
  waitMs: number,
): Promise<ActionResult> {
  const runner = rt.stack.runner(name)!;
  const m = runner.model();
  const before = { state: m.state, pid: m.pid };
  const spawnsBefore = m.spawns;
  const reason = `${action} requested`;
  if (action === 'stop') {
    await withTimeout(rt.stack.stop(name, reason), waitMs);
  } else {
    if (action === 'start') rt.stack.start(name, reason);
    else rt.stack.restart(name, reason);
    const settled = () => {
      const now = runner.model();
      // `stopped` right after a start or restart: the request has not taken effect yet
      if (isTransient(now) || now.state === 'stopped') return false;
      // a restart of a running service has settled only once its new process exists
      if (action === 'restart' && before.pid !== undefined && now.spawns === spawnsBefore) {
        return isWaiting(now) || now.state === 'failed';
      }
      return true;
    };
    await waitUntil(rt, name, settled, waitMs);
  }
  return { service: name, action, before, after: serviceView(rt, cs, name)! };
}

function withTimeout(p: Promise<void>, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    // ?wait= is the caller's: a long timer, as setTimeout fires at once past 24.8 days
    const t = setLongTimeout(resolve, ms);
    p.then(
      () => {
        t.clear();
        resolve();
      },
      (e) => {
        t.clear();
        reject(e);
      },
    );
  });
}

function waitUntil(rt: Runtime, name: string, ok: () => boolean, ms: number): Promise<void> {
  if (ok() || ms <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      timer.clear();
      off();
      resolve();
    };
    const timer = setLongTimeout(done, ms);
    const off = rt.bus.subscribe((e) => {
      if (e.kind === 'service' && e.service === name && ok()) done();
    });
  });
}

/** Served at GET /api; the same list is in index.ts. */
const ROUTES = [
  'GET  /api/status',
  'GET  /api/fleet?app=|all=1   (every tend of the app that publishes in the KV store: tend fleet --json)',
  'GET  /api/samples   (CPU and memory of each service over the last 10 minutes, restarts)',
  'GET  /api/services/:name',
  'POST /api/services/:name/start|stop|restart   (?wait=ms, default 10000)',
  'POST /api/reload',
  'POST /api/shutdown   (tend down: stop everything and exit 0)',
  'GET  /api/logs?service=&n=&follow=1',
  'GET  /api/maintenance',
  'POST /api/maintenance {"on": true|false}',
  'GET  /api/cfg?path=',
  'GET  /api/events   (server-sent events; Last-Event-ID or ?since=SEQ; ?kinds=service,app)',
  'GET  /healthz',
  'GET  /readyz',
  'GET  /metrics',
  'GET  /   (dashboard)',
];
