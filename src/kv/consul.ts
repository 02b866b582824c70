/**
 * The Consul backend, on the agent's HTTP API (KV and sessions).
 *
 * Watching runs one blocking-query loop per watched key or prefix (`?recurse`) and follows the rules of
 * Consul's "Blocking Queries" documentation:
 *  - the first query (and the first after a reset) carries no index and returns at once;
 *  - if X-Consul-Index goes backwards (snapshot restore, a deleted key that held the highest index, an upgrade),
 *    the index is reset to 0 and the loop starts over with a non-blocking read;
 *  - an index below 1 after a response is used as 1, so that a buggy 0 cannot turn the loop into a busy loop;
 *  - a 404 still carries a valid X-Consul-Index: the key is absent and the loop blocks on that index;
 *  - the starts of two queries of one loop are at least `minQueryIntervalMs` apart, so a server that answers
 *    at once, again and again, cannot make the loop spin;
 *  - a response is not a change: every response is diffed with what was known.
 * Every response is the full state of its key or prefix, so a gap (outage, index reset) needs no replay: the
 * next response is diffed like any other.
 *
 * Leases are sessions (`Behavior: delete`, no lock-delay) renewed at half their TTL; keys are written with
 * `?acquire=` so that Consul deletes them when the session ends. Consul accepts TTLs from 10 s to 24 h.
 *
 * Keys ending with `/` (the "folders" of Consul's UI) are left out of list() and watches.
 */
import { readFileSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { hostname } from 'node:os';
import { sleep } from '../time/index.js';
import {
  backoffDelay,
  compareKeys,
  createStatusTracker,
  createSyncGate,
  deliver,
  errorMessage,
  KvError,
  normalizeSpec,
} from './common.js';
import { type ConsulHttpResult, createConsulHttp } from './consul-http.js';
import type {
  ConsulEntry,
  ConsulKvConfig,
  ConsulSessions,
  KvBackend,
  KvChange,
  KvPair,
  KvTiming,
  Lease,
  Watcher,
  WatchSpec,
} from './types.js';

type HttpResult = ConsulHttpResult;

/** One entry of a KV read, as Consul documents it. */
interface ConsulKvEntry {
  Key: string;
  Value: string | null;
  CreateIndex: number;
  ModifyIndex: number;
  LockIndex?: number;
  Flags?: number;
  Session?: string;
}

class HttpStatusError extends Error {
  constructor(
    readonly status: number,
    body: string,
  ) {
    super(`HTTP ${status}${body.trim() ? `: ${body.trim().slice(0, 200)}` : ''}`);
  }
}

function formatWait(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

function parseIndex(headers: IncomingHttpHeaders): number | undefined {
  const raw = headers['x-consul-index'];
  const text = Array.isArray(raw) ? raw[0] : raw;
  if (text === undefined || !/^\d+$/.test(text.trim())) return undefined;
  return Number(text);
}

/** Path segments are escaped one by one, so `/` stays the separator and `?`, `#`, `%` stay part of the key. */
function keyPath(key: string): string {
  return key.split('/').map(encodeURIComponent).join('/');
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** What is wrong with one entry of a KV answer, or undefined when it has the documented shape. */
function entryProblem(e: unknown): string | undefined {
  if (typeof e !== 'object' || e === null || Array.isArray(e)) return 'an entry is not an object';
  const { Key, Value, ModifyIndex } = e as Record<string, unknown>;
  if (typeof Key !== 'string') return 'an entry has no string Key';
  if (Value !== null && Value !== undefined && (typeof Value !== 'string' || !BASE64.test(Value)))
    return `the Value of ${JSON.stringify(Key)} is not base64`;
  if (typeof ModifyIndex !== 'number' || !Number.isSafeInteger(ModifyIndex) || ModifyIndex < 0)
    return `the ModifyIndex of ${JSON.stringify(Key)} is not a number`;
  return undefined;
}

function decodeValue(value: string | null | undefined): string {
  if (value === null || value === undefined) return '';
  return Buffer.from(value, 'base64').toString('utf8');
}

interface Known {
  value: string | undefined;
  /** ModifyIndex of `value`, or the X-Consul-Index at which the key was seen absent */
  index: number;
}

interface Entry {
  kind: 'key' | 'prefix';
  name: string;
  active: boolean;
  synced: boolean;
  /** X-Consul-Index of the last response */
  index: number;
  abort: AbortController;
}

interface WatchState {
  spec: WatchSpec;
  entries: Map<string, Entry>;
  known: Map<string, Known>;
  onChange: (changes: KvChange[]) => void;
  gate: ReturnType<typeof createSyncGate>;
  closed: boolean;
  /** deleted keys are remembered (to ignore stale responses about them) until every loop is past them */
  tombstones: number;
  pruneAt: number;
}

const covers = (e: Entry, key: string) => (e.kind === 'key' ? key === e.name : key.startsWith(e.name));

export function createConsulBackend(config: ConsulKvConfig, opts: { timing: KvTiming }): KvBackend {
  const { url, prefix: ns } = config;
  const { timing } = opts;
  const status = createStatusTracker(false);
  const watches = new Set<WatchState>();
  const renewals = new Set<{ stop(): void }>();
  let closed = false;

  const http = createConsulHttp(config, {
    requestTimeoutMs: timing.requestTimeoutMs,
    readFile(file, what) {
      try {
        return readFileSync(file);
      } catch (err) {
        throw new KvError(url, 'invalid', `cannot read the ${what} ${file}: ${errorMessage(err)}`);
      }
    },
    checkOpen() {
      if (closed) throw new KvError(url, 'closed', 'the backend is closed');
    },
  });

  const request = (
    method: 'GET' | 'PUT' | 'DELETE',
    path: string,
    query: Record<string, string>,
    o: { body?: string; timeoutMs?: number; signal?: AbortSignal } = {},
  ): Promise<HttpResult> => http.request(method, path, { ...o, query });

  const toKvError = (err: unknown, what: string): KvError => {
    if (err instanceof KvError) return err;
    if (err instanceof HttpStatusError) {
      if (err.status === 401 || err.status === 403)
        return new KvError(url, 'denied', `${what}: ${err.message}`);
      if (err.status >= 500)
        return new KvError(url, 'unavailable', `${what}: Consul unavailable (${err.message})`);
      return new KvError(url, 'failed', `${what}: ${err.message}`);
    }
    return new KvError(url, 'unavailable', `${what}: Consul unreachable (${errorMessage(err)})`, {
      cause: err,
    });
  };

  const noteFailure = (e: KvError) => {
    if (e.code === 'unavailable' || e.code === 'denied') status.set(false, e.message);
  };

  /** Runs one request, updates the status, and turns every failure into a KvError. */
  const call = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    try {
      const result = await fn();
      status.set(true);
      return result;
    } catch (err) {
      const e = toKvError(err, what);
      noteFailure(e);
      throw e;
    }
  };

  const expect = (res: HttpResult, ...ok: number[]): HttpResult => {
    if (!ok.includes(res.status)) throw new HttpStatusError(res.status, res.body);
    return res;
  };

  /**
   * The entries of a KV answer, checked: a body that is not a list of entries with a string Key, a base64 or
   * null Value and a numeric ModifyIndex is an error (the last good values stay), never data to render.
   */
  const parseEntries = (res: HttpResult): ConsulKvEntry[] => {
    if (res.status === 404) return [];
    const malformed = (why: string) =>
      new KvError(url, 'unavailable', `malformed KV answer from Consul: ${why}`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(res.body);
    } catch (err) {
      throw malformed(`not JSON (${errorMessage(err)})`);
    }
    if (!Array.isArray(parsed)) throw malformed('not a list');
    for (const e of parsed) {
      const why = entryProblem(e);
      if (why) throw malformed(why);
    }
    return parsed as ConsulKvEntry[];
  };

  const kvPath = (key: string) => `/v1/kv/${keyPath(ns + key)}`;
  const strip = (key: string) => key.slice(ns.length);
  const isFolder = (e: ConsulKvEntry) => e.Key.endsWith('/');

  // ── watching ────────────────────────────────────────────────────────────────────────────────────────────

  const checkSynced = (w: WatchState) => {
    w.gate.check(w.closed || [...w.entries.values()].every((e) => e.synced));
  };

  const hasBaseline = (w: WatchState, key: string, self: Entry) =>
    self.synced || [...w.entries.values()].some((e) => e !== self && e.active && e.synced && covers(e, key));

  const pruneTombstones = (w: WatchState) => {
    if (w.tombstones < w.pruneAt) return;
    const floor = Math.min(...[...w.entries.values()].map((e) => (e.synced ? e.index : 0)));
    let left = 0;
    for (const [key, k] of w.known) {
      if (k.value !== undefined) continue;
      if (k.index <= floor) w.known.delete(key);
      else left++;
    }
    w.tombstones = left;
    w.pruneAt = left + 256;
  };

  /** Diffs one response (the full state of the entry's key or prefix) with what was known. */
  const apply = (w: WatchState, e: Entry, entries: ConsulKvEntry[], index: number, reset: boolean) => {
    if (reset) {
      // indexes restarted lower: older news can no longer be told from newer by index, so trust this read
      for (const [key, k] of w.known) if (covers(e, key)) k.index = 0;
    }
    const before = new Map<string, string | undefined>();
    const learn = (key: string, value: string | undefined, at: number) => {
      const prev = w.known.get(key);
      // a response older than what another loop already reported (overlapping key and prefix) is stale
      if (prev && prev.index > at) return;
      const report = hasBaseline(w, key, e);
      w.known.set(key, { value, index: at });
      if (value === undefined && prev?.value !== undefined) w.tombstones++;
      if (report && prev?.value !== value && !before.has(key)) before.set(key, prev?.value);
    };
    const seen = new Set<string>();
    for (const entry of entries) {
      if (isFolder(entry) || !entry.Key.startsWith(ns)) continue;
      const key = strip(entry.Key);
      if (!covers(e, key)) continue;
      seen.add(key);
      learn(key, decodeValue(entry.Value), entry.ModifyIndex);
    }
    for (const [key, k] of [...w.known]) {
      if (covers(e, key) && !seen.has(key) && k.value !== undefined) learn(key, undefined, index);
    }
    e.synced = true;
    e.index = index;
    checkSynced(w);
    pruneTombstones(w);
    const changes: KvChange[] = [];
    for (const [key, old] of before) {
      const value = w.known.get(key)?.value;
      if (value !== old) changes.push({ key, value });
    }
    deliver(
      w.onChange,
      changes.sort((a, b) => compareKeys(a.key, b.key)),
    );
  };

  const loop = async (w: WatchState, e: Entry) => {
    /** what the next query blocks on; 0: a non-blocking read */
    let index = 0;
    /** the last X-Consul-Index received, kept across errors so that a restore during an outage is noticed */
    let lastSeen = 0;
    let lastStart = Number.NEGATIVE_INFINITY;
    let attempt = 0;
    const signal = e.abort.signal;
    while (e.active) {
      await sleep(lastStart + timing.minQueryIntervalMs - Date.now(), signal);
      if (!e.active) return;
      lastStart = Date.now();
      const query: Record<string, string> = e.kind === 'prefix' ? { recurse: '' } : {};
      if (index > 0) {
        query.index = String(index);
        query.wait = formatWait(config.waitMs);
      }
      try {
        const res = expect(
          await request('GET', kvPath(e.name), query, {
            signal,
            // Consul adds up to wait/16 of jitter to a blocking query
            timeoutMs: index > 0 ? config.waitMs + config.waitMs / 16 + timing.requestTimeoutMs : undefined,
          }),
          200,
          404,
        );
        const entries = parseEntries(res);
        status.set(true);
        attempt = 0;
        const next = parseIndex(res.headers);
        // no index at all is treated like one that went backwards: nothing to block on, start over
        const reset = next === undefined || next < lastSeen;
        if (e.active) apply(w, e, entries, next ?? 0, reset);
        lastSeen = next ?? 0;
        index = reset ? 0 : Math.max(next, 1);
      } catch (err) {
        if (!e.active) return;
        noteFailure(toKvError(err, `watch ${e.name}`));
        // start over with a non-blocking read: the state may have moved on while we could not ask
        index = 0;
        await sleep(backoffDelay(attempt++, timing), signal);
      }
    }
  };

  const entryId = (kind: Entry['kind'], name: string) => `${kind}:${name}`;

  const applySpec = (w: WatchState) => {
    const wanted = new Map<string, Entry['kind']>();
    for (const key of w.spec.keys) wanted.set(entryId('key', key), 'key');
    for (const p of w.spec.prefixes) wanted.set(entryId('prefix', p), 'prefix');
    for (const [id, e] of w.entries) {
      if (!wanted.has(id)) {
        e.active = false;
        e.abort.abort();
        w.entries.delete(id);
      }
    }
    for (const key of [...w.known.keys()]) {
      if (![...w.entries.values()].some((e) => covers(e, key))) w.known.delete(key);
    }
    const added: Entry[] = [];
    for (const [id, kind] of wanted) {
      if (w.entries.has(id)) continue;
      const e: Entry = {
        kind,
        name: id.slice(kind.length + 1),
        active: true,
        synced: false,
        index: 0,
        abort: new AbortController(),
      };
      w.entries.set(id, e);
      added.push(e);
    }
    checkSynced(w);
    for (const e of added) void loop(w, e);
  };

  const closeWatch = (w: WatchState) => {
    if (w.closed) return;
    w.closed = true;
    watches.delete(w);
    for (const e of w.entries.values()) {
      e.active = false;
      e.abort.abort();
    }
    w.entries.clear();
    checkSynced(w);
  };

  // ── sessions ────────────────────────────────────────────────────────────────────────────────────────────

  const sessionIds = new WeakMap<Lease, string>();

  const grantLease = (ttlMs: number) =>
    call('create session', async () => {
      const ttl = Math.min(86_400, Math.max(10, Math.ceil(ttlMs / 1000)));
      const res = expect(
        await request(
          'PUT',
          '/v1/session/create',
          {},
          {
            body: JSON.stringify({
              Name: `tend@${hostname()}`,
              TTL: `${ttl}s`,
              Behavior: 'delete',
              // a registration re-created right after its session was lost must not wait the default 15 s
              LockDelay: '0s',
            }),
          },
        ),
        200,
      );
      const id = (JSON.parse(res.body) as { ID?: string }).ID;
      if (!id) throw new Error('session/create returned no ID');
      const lostCallbacks: Array<() => void> = [];
      let lostFired = false;
      let ended = false;
      let timer: NodeJS.Timeout | undefined;
      let lastRenewal = Date.now();
      let attempt = 0;
      const stop = () => {
        ended = true;
        clearTimeout(timer);
        renewals.delete(renewal);
      };
      const renewal = { stop };
      const lose = () => {
        stop();
        if (lostFired) return;
        lostFired = true;
        for (const cb of lostCallbacks.splice(0)) cb();
      };
      const schedule = (ms: number) => {
        timer = setTimeout(renew, ms);
        // renewals alone must not keep a finished process alive
        timer.unref();
      };
      const renew = async () => {
        if (ended) return;
        try {
          const r = await request('PUT', `/v1/session/renew/${encodeURIComponent(id)}`, {});
          if (ended) return;
          if (r.status === 404) return lose();
          expect(r, 200);
          status.set(true);
          lastRenewal = Date.now();
          attempt = 0;
          schedule((ttl * 1000) / 2);
        } catch (err) {
          if (ended) return;
          noteFailure(toKvError(err, `renew session ${id}`));
          // Consul may take up to twice the TTL to invalidate a session; past that it is surely gone
          if (Date.now() - lastRenewal > ttl * 2000) return lose();
          schedule(Math.min(backoffDelay(attempt++, timing), (ttl * 1000) / 4));
        }
      };
      renewals.add(renewal);
      schedule((ttl * 1000) / 2);
      const lease: Lease = {
        id,
        ttlMs: ttl * 1000,
        revoke: () =>
          call(`destroy session ${id}`, async () => {
            stop();
            expect(await request('PUT', `/v1/session/destroy/${encodeURIComponent(id)}`, {}), 200);
          }),
        onLost(cb) {
          if (lostFired) queueMicrotask(cb);
          else lostCallbacks.push(cb);
        },
      };
      sessionIds.set(lease, id);
      return lease;
    });

  /** the session behind a lease of this backend, or a KvError naming what was asked */
  const sessionOf = (lease: Lease, what: string): string => {
    const id = sessionIds.get(lease);
    if (id === undefined) throw new KvError(url, 'invalid', `${what}: lease ${lease.id} is not ours`);
    return id;
  };

  /** Consul answers a conditional write (acquire, release, cas) with the body `true` or `false` */
  const answer = (res: HttpResult): boolean => {
    expect(res, 200);
    return res.body.trim() === 'true';
  };

  const checkKey = (key: string, what: string) => {
    if (key === '' || key.startsWith('/'))
      throw new KvError(url, 'invalid', `${what}: "${key}" is not a Consul key`);
  };

  const sessions: ConsulSessions = {
    entries: (prefix) =>
      call(`list ${prefix}`, async () => {
        const res = expect(await request('GET', kvPath(prefix), { recurse: '' }), 200, 404);
        return parseEntries(res)
          .filter((e) => !isFolder(e) && e.Key.startsWith(ns + prefix))
          .map(
            (e): ConsulEntry => ({
              key: strip(e.Key),
              value: decodeValue(e.Value),
              createIndex: typeof e.CreateIndex === 'number' ? e.CreateIndex : e.ModifyIndex,
              modifyIndex: e.ModifyIndex,
              ...(typeof e.Session === 'string' && e.Session !== '' ? { session: e.Session } : {}),
            }),
          )
          .sort((a, b) => compareKeys(a.key, b.key));
      }),
    acquire: (key, value, lease) =>
      call(`acquire ${key}`, async () => {
        checkKey(key, 'acquire');
        const id = sessionOf(lease, `acquire ${key}`);
        return answer(await request('PUT', kvPath(key), { acquire: id }, { body: value }));
      }),
    release: (key, lease) =>
      call(`release ${key}`, async () => {
        checkKey(key, 'release');
        const id = sessionOf(lease, `release ${key}`);
        return answer(await request('PUT', kvPath(key), { release: id }));
      }),
    cas: (key, value, modifyIndex) =>
      call(`check-and-set ${key}`, async () => {
        checkKey(key, 'check-and-set');
        if (!Number.isSafeInteger(modifyIndex) || modifyIndex < 0)
          throw new KvError(url, 'invalid', `check-and-set ${key}: index ${modifyIndex} is not an index`);
        return answer(await request('PUT', kvPath(key), { cas: String(modifyIndex) }, { body: value }));
      }),
  };

  const backend: KvBackend = {
    kind: 'consul',
    url,
    sessions,
    get: (key) =>
      call(`get ${key}`, async () => {
        const res = expect(await request('GET', kvPath(key), {}), 200, 404);
        const entry = parseEntries(res).find((e) => e.Key === ns + key);
        return entry ? decodeValue(entry.Value) : undefined;
      }),
    list: (prefix) =>
      call(`list ${prefix}`, async () => {
        const res = expect(await request('GET', kvPath(prefix), { recurse: '' }), 200, 404);
        return parseEntries(res)
          .filter((e) => !isFolder(e) && e.Key.startsWith(ns + prefix))
          .map(
            (e): KvPair => ({ key: strip(e.Key), value: decodeValue(e.Value), modifyIndex: e.ModifyIndex }),
          )
          .sort((a, b) => compareKeys(a.key, b.key));
      }),
    put: (key, value, putOpts) =>
      call(`put ${key}`, async () => {
        if (key === '' || key.startsWith('/'))
          throw new KvError(url, 'invalid', `put: "${key}" is not a Consul key`);
        const query: Record<string, string> = {};
        if (putOpts?.lease) {
          const id = sessionIds.get(putOpts.lease);
          if (id === undefined)
            throw new KvError(url, 'invalid', `put ${key}: lease ${putOpts.lease.id} is not ours`);
          query.acquire = id;
        }
        const res = expect(await request('PUT', kvPath(key), query, { body: value }), 200);
        if (res.body.trim() !== 'true') {
          throw new KvError(
            url,
            'conflict',
            `put ${key}: Consul refused the write (held by another session?)`,
          );
        }
      }),
    delete: (key, delOpts) =>
      call(`delete ${key}`, async () => {
        expect(await request('DELETE', kvPath(key), delOpts?.prefix ? { recurse: '' } : {}), 200);
      }),
    watch(spec, onChange): Watcher {
      const w: WatchState = {
        spec: normalizeSpec(spec),
        entries: new Map(),
        known: new Map(),
        onChange,
        gate: createSyncGate(),
        closed,
        tombstones: 0,
        pruneAt: 256,
      };
      if (!closed) {
        watches.add(w);
        applySpec(w);
      }
      checkSynced(w);
      return {
        update(next) {
          if (w.closed) return;
          w.spec = normalizeSpec(next);
          applySpec(w);
        },
        synced: () => w.gate.wait(),
        close: async () => closeWatch(w),
      };
    },
    onStatus: (cb) => status.on(cb),
    status: () => status.get(),
    grantLease,
    async close() {
      if (closed) return;
      for (const w of [...watches]) closeWatch(w);
      // renewals stop; Consul ends the sessions (and deletes their keys) once the TTL runs out
      for (const r of [...renewals]) r.stop();
      closed = true;
      http.close();
    },
  };
  return backend;
}
