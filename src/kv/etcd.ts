/**
 * The etcd v3 backend, on the `etcd3` package.
 *
 * Namespace: `etcd://h:2379/myapp/` keeps every key under `myapp/`; callers never see the namespace.
 *
 * Watching: each watched key or prefix is ranged first, then watched from that revision + 1. Every key remembers
 * the revision of its last known value, so that replays after a reconnect, overlapping watches (a key that is
 * also under a watched prefix) and resyncs never report a change twice or go back in time. After a disconnect a
 * watch resumes from the last revision it processed; if etcd has compacted that revision away, the watch is
 * cancelled by the server and the key or prefix is ranged again and diffed against what was known.
 *
 * Another history: etcd back on the same address with a lower revision, a lower raft term or another cluster
 * id (restored from a snapshot, or a new cluster) would leave a resumed watch waiting for a revision that the
 * new history reaches much later, if ever. Every response header a watch sees is compared with the highest seen;
 * a header that goes back is confirmed by a linearizable read (a lagging member may answer a little behind)
 * and then everything watched is re-listed and diffed, as after a compaction, and a `reset` notice says so once.
 *
 * Values over the response limit: grpc refuses a message over MAX_RESPONSE_BYTES. On the watch stream (shared by
 * every watch of the client) that fails the stream, and resuming from the last revision replays the same event
 * forever. So such a failure is not treated as an outage: every entry re-lists at the current revision (after a
 * jittered backoff that grows while it repeats) and watches on from there, past the event; a range that is too
 * large is split down to single keys, and a value that alone is too large is left out (its last known value
 * stays) with one `oversize` notice naming it.
 */
import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import {
  Etcd3,
  EtcdAuthenticationFailedError,
  type Lease as EtcdLease,
  EtcdPermissionDeniedError,
  type Watcher as EtcdWatcher,
  GRPCDeadlineExceededError,
  GRPCResourceExhastedError,
  GRPCUnauthenticatedError,
  GRPCUnavailableError,
  type IKeyValue,
  type IOptions,
  type IRangeResponse,
  type IResponseHeader,
  type IWatchResponse,
  isRecoverableError,
} from 'etcd3';
import { withTimeout } from '../time/index.js';
import {
  backoffDelay,
  compareKeys,
  createStatusTracker,
  createSyncGate,
  deliver,
  errorMessage,
  KvError,
  normalizeSpec,
  type StatusTracker,
} from './common.js';
import type {
  EtcdKvConfig,
  KvBackend,
  KvChange,
  KvNotice,
  KvPair,
  KvTiming,
  Lease,
  Watcher,
  WatchSpec,
} from './types.js';

type FaultHandling = NonNullable<IOptions['faultHandling']>;
type Policy = NonNullable<FaultHandling['global']>;
type WatchBackoff = NonNullable<FaultHandling['watchBackoff']>;

/**
 * etcd3's default policies retry three times and then hold a circuit breaker open for 5 s after the server is
 * back, which both hides outages from our status and delays recovery. Our loops do their own backoff, so each
 * call goes straight through.
 */
const passthrough = {
  execute: async <T>(fn: (context: { signal: AbortSignal }) => PromiseLike<T> | T) =>
    fn({ signal: new AbortController().signal }),
  onSuccess: () => ({ dispose() {} }),
  onFailure: () => ({ dispose() {} }),
} as unknown as Policy;

/**
 * The largest response accepted (grpc-js's default, made explicit so that errors can name it). etcd takes
 * requests up to its --max-request-bytes (1.5 MiB unless raised), so only a raised server limit lets a value this
 * large in; a bound keeps one huge value from costing tend its memory.
 */
export const MAX_RESPONSE_BYTES = 4 * 1024 * 1024;
/** the longest lease TTL whose keep-alive timers fit setTimeout (2^31-1 ms) */
export const LEASE_TTL_MAX_S = Math.floor((2 ** 31 - 1) / 1000);

const LIMIT_TEXT = `${MAX_RESPONSE_BYTES / 1024 / 1024} MiB`;

/**
 * grpc-js refusing a response over the limit: RESOURCE_EXHAUSTED, "Received message larger than max (N vs M)".
 * etcd's own RESOURCE_EXHAUSTED answers ("too many requests", "database space exceeded") are not this.
 */
const isOversize = (err: unknown): boolean =>
  (err instanceof GRPCResourceExhastedError ||
    (typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 8) ||
    /RESOURCE_EXHAUSTED/.test(errorMessage(err))) &&
  /larger than max/i.test(errorMessage(err));

/** What a response header says about the history it belongs to. */
interface History {
  clusterId: string;
  term: number;
  revision: number;
}

const historyOf = (h: IResponseHeader): History => ({
  clusterId: String(h.cluster_id),
  term: Number(h.raft_term),
  revision: Number(h.revision),
});

/** Why `now` cannot come from the history `seen` went on in, or undefined if it can. */
function divergence(seen: History, now: History): string | undefined {
  const hex = (id: string) => (/^\d+$/.test(id) ? BigInt(id).toString(16) : id);
  if (now.clusterId !== seen.clusterId)
    return `cluster id ${hex(now.clusterId)} instead of ${hex(seen.clusterId)}`;
  if (now.term < seen.term) return `raft term ${now.term}, below the ${seen.term} tend had seen`;
  if (now.revision < seen.revision)
    return `revision ${now.revision}, below the ${seen.revision} tend had seen`;
  return undefined;
}

/** The range_end that makes a range cover every key starting with `prefix` (etcd's rule). */
function prefixEnd(prefix: Buffer): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i] < 0xff) {
      end[i]++;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]);
}

/** A host policy refused the call because its member failed recently and another member may answer. */
class MemberSkipped extends Error {
  constructor() {
    super('etcd member skipped: it failed recently');
    this.name = 'MemberSkipped';
  }
}

/**
 * Host policies for a cluster URL (several endpoints). etcd3's pool tries one random member per call and, once a
 * call went through to a member, fails with that member's error: with passthrough, one stopped member out of three
 * made a third of all requests fail and the store flap to "unreachable". Here a member whose call failed with a
 * connection error is skipped for `skipMs` (the pool then tries the next member), but only while some other member
 * is not marked: when every member failed, calls go through again, so an outage of the whole cluster behaves as
 * with one endpoint (no breaker that holds the door shut after etcd is back). One endpoint: plain passthrough.
 */
function memberPolicies(count: number, skipMs: number): () => Policy {
  if (count <= 1) return () => passthrough;
  const downUntil: number[] = [];
  return () => {
    const slot = downUntil.push(0) - 1;
    const othersUp = () => downUntil.some((t, i) => i !== slot && t <= Date.now());
    return {
      execute: async <T>(fn: (context: { signal: AbortSignal }) => PromiseLike<T> | T) => {
        if ((downUntil[slot] ?? 0) > Date.now() && othersUp()) throw new MemberSkipped();
        try {
          const result = await fn({ signal: new AbortController().signal });
          downUntil[slot] = 0;
          return result;
        } catch (err) {
          if (typeof err === 'object' && err !== null && isRecoverableError(err as Error)) {
            downUntil[slot] = Date.now() + skipMs;
          }
          throw err;
        }
      },
      onSuccess: () => ({ dispose() {} }),
      onFailure: () => ({ dispose() {} }),
    } as unknown as Policy;
  };
}

function watchBackoff(timing: KvTiming, attempt: number): WatchBackoff {
  return { duration: backoffDelay(attempt, timing), next: () => watchBackoff(timing, attempt + 1) };
}

interface Known {
  value: string | undefined;
  /** mod_revision of `value`, or the revision at which the key was seen absent */
  rev: number;
}

interface Entry {
  kind: 'key' | 'prefix';
  name: string;
  active: boolean;
  /** has a baseline: its key or every key under its prefix is in `known` (absent ones implicitly) */
  synced: boolean;
  /** last revision whose events this entry has processed */
  rev: number;
  watcher?: EtcdWatcher;
  /** the sync under way, if any */
  syncing?: Promise<number>;
  attempt: number;
  timer?: NodeJS.Timeout;
}

interface WatchState {
  spec: WatchSpec;
  entries: Map<string, Entry>;
  known: Map<string, Known>;
  onChange: (changes: KvChange[]) => void;
  gate: ReturnType<typeof createSyncGate>;
  closed: boolean;
  /** deleted keys are remembered (to ignore older news about them) until every watcher is past them */
  tombstones: number;
  pruneAt: number;
}

const entryId = (kind: Entry['kind'], name: string) => `${kind}:${name}`;
const covers = (e: Entry, key: string) => (e.kind === 'key' ? key === e.name : key.startsWith(e.name));

export function createEtcdBackend(config: EtcdKvConfig, opts: { timing: KvTiming }): KvBackend {
  const { url, prefix: ns } = config;
  const { timing } = opts;
  const status: StatusTracker = createStatusTracker(false);
  const watches = new Set<WatchState>();
  const leases = new Set<EtcdLease>();
  let client: Etcd3 | undefined;
  let closed = false;
  const noticeSubscribers = new Set<(n: KvNotice) => void>();
  /** the highest revision and term seen in watch responses, and the cluster they came from */
  let history: History | undefined;
  let checkingHistory = false;
  let historyTimer: NodeJS.Timeout | undefined;
  let historyAttempt = 0;
  /** watch stream failures for a response over the limit, in a row: the backoff of the re-lists they cause */
  let oversizeStreak = 0;
  let oversizeTimer: NodeJS.Timeout | undefined;
  /** `key@mod_revision` of values over the limit already reported */
  const oversizeReported = new Set<string>();

  const notify = (n: KvNotice) => {
    for (const cb of [...noticeSubscribers]) {
      try {
        cb(n);
      } catch {
        // a subscriber's bug must not break the backend's own bookkeeping
      }
    }
  };

  const toKvError = (err: unknown, what: string): KvError => {
    if (err instanceof KvError) return err;
    const msg = errorMessage(err);
    if (isOversize(err)) {
      return new KvError(
        url,
        'failed',
        `${what}: etcd's answer is larger than the ${LIMIT_TEXT} tend accepts in one response (${msg}); ` +
          `a value under it is too large: replace it with a smaller one or delete it`,
        { cause: err },
      );
    }
    if (
      err instanceof EtcdPermissionDeniedError ||
      err instanceof EtcdAuthenticationFailedError ||
      err instanceof GRPCUnauthenticatedError
    ) {
      return new KvError(url, 'denied', `${what}: ${msg}`, { cause: err });
    }
    if (
      err instanceof MemberSkipped ||
      err instanceof GRPCUnavailableError ||
      err instanceof GRPCDeadlineExceededError ||
      (typeof err === 'object' && err !== null && isRecoverableError(err as Error))
    ) {
      return new KvError(url, 'unavailable', `${what}: etcd unreachable (${msg})`, { cause: err });
    }
    return new KvError(url, 'failed', `${what}: ${msg}`, { cause: err });
  };

  const noteFailure = (e: KvError) => {
    if (e.code === 'unavailable' || e.code === 'denied') status.set(false, e.message);
  };

  const readTlsFile = (file: string, what: string): Buffer => {
    try {
      return readFileSync(file);
    } catch (err) {
      throw new KvError(url, 'invalid', `cannot read the ${what} ${file}: ${errorMessage(err)}`);
    }
  };

  /** Created on first use, so that opening a backend does no I/O and never throws. */
  const getClient = (): Etcd3 => {
    if (closed) throw new KvError(url, 'closed', 'the backend is closed');
    if (client) return client;
    const options: IOptions = {
      hosts: config.endpoints.map((h) => `${config.tls ? 'https' : 'http'}://${h}`),
      defaultCallOptions: (context) =>
        context.isStream ? {} : { deadline: Date.now() + timing.requestTimeoutMs },
      faultHandling: {
        host: memberPolicies(config.endpoints.length, Math.max(1000, timing.backoffMaxMs)),
        global: passthrough,
        watchBackoff: watchBackoff(timing, -1),
      },
      grpcOptions: {
        // grpc-js backs off up to 2 minutes between reconnects by default; an outage must end promptly
        'grpc.initial_reconnect_backoff_ms': timing.backoffInitialMs,
        'grpc.max_reconnect_backoff_ms': timing.backoffMaxMs,
        // a silently dead peer (no RST) is noticed within ~15 s; etcd refuses pings more often than every 5 s
        'grpc.keepalive_time_ms': 10_000,
        'grpc.keepalive_timeout_ms': 5_000,
        'grpc.max_receive_message_length': MAX_RESPONSE_BYTES,
      },
    };
    if (config.caFile || config.certFile) {
      options.credentials = {
        rootCertificate: config.caFile
          ? readTlsFile(config.caFile, 'CA certificate')
          : Buffer.from(rootCertificates.join('\n')),
      };
      if (config.certFile) options.credentials.certChain = readTlsFile(config.certFile, 'client certificate');
      if (config.keyFile) options.credentials.privateKey = readTlsFile(config.keyFile, 'client key');
    }
    if (config.username !== undefined) {
      options.auth = { username: config.username, password: config.password ?? '' };
    }
    client = new Etcd3(options);
    return client;
  };

  /**
   * One request. With several endpoints, a connection error is retried once per other member: the failed member
   * is skipped meanwhile (memberPolicies), so the retry lands on a live one if there is any.
   */
  const call = async <T>(what: string, fn: (c: Etcd3) => Promise<T>): Promise<T> => {
    for (let attempt = 0; ; attempt++) {
      try {
        const result = await fn(getClient());
        status.set(true);
        return result;
      } catch (err) {
        const e = toKvError(err, what);
        if (e.code === 'unavailable' && attempt < config.endpoints.length - 1 && !closed) continue;
        noteFailure(e);
        throw e;
      }
    }
  };

  const strip = (key: Buffer | string) => String(key).slice(ns.length);

  // ── watching ────────────────────────────────────────────────────────────────────────────────────────────

  /** Records a newer value; returns whether it differs from what was known. Older news is ignored. */
  const learn = (w: WatchState, key: string, value: string | undefined, rev: number): boolean => {
    const prev = w.known.get(key);
    if (prev && prev.rev >= rev) return false;
    w.known.set(key, { value, rev });
    if (value === undefined && prev?.value !== undefined) w.tombstones++;
    return prev?.value !== value;
  };

  /** A tombstone older than every watcher's position can no longer be contradicted by a late event. */
  const pruneTombstones = (w: WatchState) => {
    if (w.tombstones < w.pruneAt) return;
    const floor = Math.min(...[...w.entries.values()].map((e) => (e.synced ? e.rev : 0)));
    let left = 0;
    for (const [key, k] of w.known) {
      if (k.value !== undefined) continue;
      if (k.rev <= floor) w.known.delete(key);
      else left++;
    }
    w.tombstones = left;
    w.pruneAt = left + 256;
  };

  const hasBaseline = (w: WatchState, key: string, self: Entry) =>
    self.synced || [...w.entries.values()].some((e) => e !== self && e.active && e.synced && covers(e, key));

  const checkSynced = (w: WatchState) => {
    w.gate.check(w.closed || [...w.entries.values()].every((e) => e.synced));
  };

  const range = (c: Etcd3, e: Entry): Promise<IRangeResponse> =>
    e.kind === 'key'
      ? c.get(ns + e.name).exec()
      : c
          .getAll()
          .prefix(ns + e.name)
          .exec();

  /**
   * Ranges `keys` (sorted, from a keys-only range at `revision`) with their values, halving a range that is
   * over the limit down to single keys: a value that alone is over it comes back apart, without its value.
   */
  const rangeValues = async (
    c: Etcd3,
    keys: IKeyValue[],
    revision: string,
  ): Promise<{ kvs: IKeyValue[]; oversize: IKeyValue[] }> => {
    if (keys.length === 0) return { kvs: [], oversize: [] };
    try {
      const res = await c.kv.range({
        key: keys[0].key,
        range_end: Buffer.concat([keys[keys.length - 1].key, Buffer.from([0])]),
        revision,
      });
      return { kvs: res.kvs, oversize: [] };
    } catch (err) {
      if (!isOversize(err)) throw err;
      if (keys.length === 1) return { kvs: [], oversize: keys };
      const mid = keys.length >> 1;
      const a = await rangeValues(c, keys.slice(0, mid), revision);
      const b = await rangeValues(c, keys.slice(mid), revision);
      return { kvs: [...a.kvs, ...b.kvs], oversize: [...a.oversize, ...b.oversize] };
    }
  };

  /** The entry's keys and values at one revision; values over the limit are left out and listed apart. */
  const rangeEntry = async (c: Etcd3, e: Entry) => {
    try {
      const res = await range(c, e);
      return { header: res.header, kvs: res.kvs, oversize: [] as IKeyValue[] };
    } catch (err) {
      if (!isOversize(err)) throw err;
      const keysOnly = await c.kv.range({
        key: Buffer.from(ns + e.name),
        range_end: e.kind === 'key' ? undefined : prefixEnd(Buffer.from(ns + e.name)),
        keys_only: true,
      });
      const { kvs, oversize } = await rangeValues(c, keysOnly.kvs, keysOnly.header.revision);
      return { header: keysOnly.header, kvs, oversize };
    }
  };

  const reportOversize = (kv: IKeyValue) => {
    const key = strip(kv.key);
    const id = `${key}@${kv.mod_revision}`;
    if (oversizeReported.has(id)) return;
    oversizeReported.add(id);
    notify({
      kind: 'oversize',
      key,
      limitBytes: MAX_RESPONSE_BYTES,
      message:
        `${url}: the value of ${key} (put at revision ${kv.mod_revision}) is larger than the ${LIMIT_TEXT} tend ` +
        `accepts in one response from etcd; it is left out, its last value stays, until it is replaced with a ` +
        `smaller one or deleted`,
    });
  };

  /**
   * Ranges the entry, reports differences from the known state (if it had a baseline) and watches on. Resolves
   * to the number of changes reported. A sync asked for while one is under way is skipped, unless `again`:
   * then it runs after it (a reset must not trust a range that may have been answered by the old history).
   */
  const sync = (w: WatchState, e: Entry, again = false): Promise<number> => {
    if (!e.active) return Promise.resolve(0);
    if (e.syncing) return again ? e.syncing.then(() => sync(w, e, true)) : Promise.resolve(0);
    const run = syncOnce(w, e).finally(() => {
      if (e.syncing === run) e.syncing = undefined;
    });
    e.syncing = run;
    return run;
  };

  const syncOnce = async (w: WatchState, e: Entry): Promise<number> => {
    clearTimeout(e.timer);
    e.timer = undefined;
    try {
      const res = await rangeEntry(getClient(), e);
      status.set(true);
      if (!e.active) return 0;
      observe(res.header);
      const revision = Number(res.header.revision);
      const before = new Map<string, string | undefined>();
      const touched: string[] = [];
      const seen = new Set<string>();
      const consider = (key: string, value: string | undefined, rev: number) => {
        const prior = w.known.get(key)?.value;
        const report = hasBaseline(w, key, e);
        if (learn(w, key, value, rev) && report) {
          if (!before.has(key)) before.set(key, prior);
          touched.push(key);
        }
      };
      for (const kv of res.kvs) {
        const key = strip(kv.key);
        seen.add(key);
        consider(key, kv.value.toString(), Number(kv.mod_revision));
      }
      for (const kv of res.oversize) {
        // present, but unreadable: neither a new value nor a deletion
        seen.add(strip(kv.key));
        reportOversize(kv);
      }
      for (const [key, known] of [...w.known]) {
        if (covers(e, key) && !seen.has(key) && known.value !== undefined) consider(key, undefined, revision);
      }
      e.synced = true;
      e.rev = revision;
      e.attempt = 0;
      stopWatcher(e);
      startWatcher(w, e);
      checkSynced(w);
      pruneTombstones(w);
      const changes = netChanges(w, before, touched);
      deliver(w.onChange, changes);
      return changes.length;
    } catch (err) {
      const kvErr = toKvError(err, `watch ${e.name}`);
      noteFailure(kvErr);
      if (kvErr.code === 'closed' || !e.active) return 0;
      e.timer = setTimeout(() => void sync(w, e), backoffDelay(e.attempt++, timing));
      return 0;
    }
  };

  /** Keys whose value at the end of a batch differs from their value before it (a→b→a is no change). */
  const netChanges = (
    w: WatchState,
    before: Map<string, string | undefined>,
    touched: string[],
  ): KvChange[] => {
    const out: KvChange[] = [];
    for (const key of new Set(touched)) {
      const value = w.known.get(key)?.value;
      if (value !== before.get(key)) out.push({ key, value });
    }
    return out.sort((a, b) => compareKeys(a.key, b.key));
  };

  // ── another history ─────────────────────────────────────────────────────────────────────────────────────

  /**
   * Compares a response header with the history seen so far. One that goes back starts a check; meanwhile the
   * response is used as usual (a lagging member's answer is still good news, and after a reset the re-list
   * decides anyway).
   */
  const observe = (h: IResponseHeader | undefined): void => {
    if (!h) return;
    const now = historyOf(h);
    if (!history) {
      history = now;
      return;
    }
    if (divergence(history, now) === undefined) {
      history.term = Math.max(history.term, now.term);
      history.revision = Math.max(history.revision, now.revision);
      return;
    }
    void checkHistory();
  };

  /** A linearizable read goes through the leader: its header is the cluster's present, never a lagging one. */
  const checkHistory = async () => {
    if (checkingHistory || closed) return;
    checkingHistory = true;
    clearTimeout(historyTimer);
    historyTimer = undefined;
    try {
      const res = await getClient().kv.range({ key: Buffer.from(`${ns}\0`), count_only: true });
      const now = historyOf(res.header);
      const why = history && divergence(history, now);
      historyAttempt = 0;
      if (!why) return;
      history = now;
      await resetWatches(why);
    } catch {
      // unreachable again, or closed: ask again later (the next header would ask too)
      if (!closed)
        historyTimer = setTimeout(() => void checkHistory(), backoffDelay(historyAttempt++, timing));
    } finally {
      checkingHistory = false;
    }
  };

  /** Forgets the revisions of the old history and re-lists every watched key and prefix, then says so once. */
  const resetWatches = async (why: string) => {
    const syncs: Promise<number>[] = [];
    // a value reported as too large in the old history is news again in the new one
    oversizeReported.clear();
    for (const w of watches) {
      // old revisions mean nothing in the new history: whatever the re-list finds wins
      for (const k of w.known.values()) k.rev = 0;
      for (const e of w.entries.values()) {
        if (!e.active) continue;
        stopWatcher(e);
        clearTimeout(e.timer);
        e.timer = undefined;
        e.rev = 0;
        e.attempt = 0;
        syncs.push(sync(w, e, true));
      }
    }
    const changed = (await Promise.all(syncs)).reduce((a, b) => a + b, 0);
    if (closed) return;
    const n = syncs.length;
    notify({
      kind: 'reset',
      changed,
      message:
        `${url}: etcd came back with another history (${why}): restored from a snapshot, or a new cluster at ` +
        `the same address; re-read the ${n} watched key${n === 1 ? '' : 's'} and prefix${n === 1 ? '' : 'es'}: ` +
        `${changed} value${changed === 1 ? '' : 's'} changed`,
    });
  };

  // ── values over the response limit ──────────────────────────────────────────────────────────────────────

  /**
   * The watch stream failed on a response over the limit. Resuming would replay the same event, so every entry
   * re-lists at the current revision instead, once, after a backoff that grows while this repeats.
   */
  const onOversizeStream = () => {
    if (oversizeTimer || closed) return;
    for (const w of watches) for (const e of w.entries.values()) stopWatcher(e);
    oversizeTimer = setTimeout(
      () => {
        oversizeTimer = undefined;
        for (const w of watches) for (const e of w.entries.values()) if (e.active) void sync(w, e, true);
      },
      backoffDelay(oversizeStreak++, timing),
    );
  };

  const onEvents = (w: WatchState, e: Entry, res: IWatchResponse) => {
    observe(res.header);
    if (res.events.length > 0) oversizeStreak = 0;
    const before = new Map<string, string | undefined>();
    const touched: string[] = [];
    let lastRev = e.rev;
    for (const ev of res.events) {
      const key = strip(ev.kv.key);
      const rev = Number(ev.kv.mod_revision);
      lastRev = Math.max(lastRev, rev);
      const prior = w.known.get(key)?.value;
      if (learn(w, key, ev.type === 'Delete' ? undefined : ev.kv.value.toString(), rev)) {
        if (!before.has(key)) before.set(key, prior);
        touched.push(key);
      }
    }
    // A catch-up response may carry the current revision in its header while more events follow (etcd sends
    // at most 1000 revisions at a time), so only a response without events (progress) vouches for the header.
    e.rev = res.events.length > 0 ? lastRev : Math.max(e.rev, Number(res.header.revision));
    pruneTombstones(w);
    deliver(w.onChange, netChanges(w, before, touched));
  };

  const startWatcher = (w: WatchState, e: Entry) => {
    const builder = getClient().watch();
    if (e.kind === 'key') builder.key(ns + e.name);
    else builder.prefix(ns + e.name);
    const watcher = builder.startRevision(String(e.rev + 1)).watcher();
    e.watcher = watcher;
    const mine = () => e.watcher === watcher && e.active;
    watcher.on('data', (res) => {
      if (mine()) onEvents(w, e, res);
    });
    watcher.on('connected', (res: IWatchResponse) => {
      if (!mine()) return;
      status.set(true);
      observe(res?.header);
    });
    watcher.on('disconnected', (err) => {
      if (!mine()) return;
      // the server is there: a response was too large to take, and resuming would replay it
      if (isOversize(err)) return onOversizeStream();
      // the stream's end or error arrives raw from grpc: whatever it says, the watch has lost the server
      status.set(false, `watch ${e.name}: etcd unreachable (${errorMessage(err)})`);
      // etcd3 advances its resume point to the header revision of the "created" response, before the replayed
      // events have arrived; resuming from what we processed cannot skip anything
      watcher.request.start_revision = String(e.rev + 1);
    });
    watcher.on('error', () => {
      // the server cancelled the watch: its revision was compacted (or permissions changed); range again
      // (etcd3 has already detached it: cancelling it again would make etcd3 throw on the server's reply)
      if (!mine()) return;
      e.watcher = undefined;
      e.timer = setTimeout(() => void sync(w, e), backoffDelay(e.attempt++, timing));
    });
  };

  /** Detaches the entry's etcd watcher (its late events are ignored: they are no longer `mine`). */
  const stopWatcher = (e: Entry): Promise<unknown> => {
    const watcher = e.watcher;
    e.watcher = undefined;
    return watcher ? watcher.cancel().catch(() => {}) : Promise.resolve();
  };

  const dropEntry = (e: Entry) => {
    e.active = false;
    clearTimeout(e.timer);
    return stopWatcher(e);
  };

  const applySpec = (w: WatchState): Promise<unknown> => {
    const wanted = new Map<string, Entry['kind']>();
    for (const key of w.spec.keys) wanted.set(entryId('key', key), 'key');
    for (const p of w.spec.prefixes) wanted.set(entryId('prefix', p), 'prefix');
    const cancels: Promise<unknown>[] = [];
    for (const [id, e] of w.entries) {
      if (!wanted.has(id)) {
        w.entries.delete(id);
        cancels.push(dropEntry(e));
      }
    }
    // forget what no entry watches any more, so that watching it again starts from a fresh baseline
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
        rev: 0,
        attempt: 0,
      };
      w.entries.set(id, e);
      added.push(e);
    }
    checkSynced(w);
    for (const e of added) void sync(w, e);
    return Promise.all(cancels);
  };

  const closeWatch = async (w: WatchState) => {
    if (w.closed) return;
    w.closed = true;
    watches.delete(w);
    const cancels = [...w.entries.values()].map(dropEntry);
    w.entries.clear();
    checkSynced(w);
    // a cancel waits for the server's acknowledgement, which never comes during an outage
    await withTimeout(Promise.all(cancels), 1000, () => undefined, { unref: true });
  };

  // ── leases ──────────────────────────────────────────────────────────────────────────────────────────────

  const leaseIds = new WeakMap<Lease, string>();

  const backend: KvBackend = {
    kind: 'etcd',
    url,
    get: (key) =>
      call(`get ${key}`, async (c) => {
        const value = await c.get(ns + key).string();
        return value ?? undefined;
      }),
    list: (prefix) =>
      call(`list ${prefix}`, async (c) => {
        const res = await c
          .getAll()
          .prefix(ns + prefix)
          .exec();
        return res.kvs
          .map(
            (kv): KvPair => ({
              key: strip(kv.key),
              value: kv.value.toString(),
              modifyIndex: Number(kv.mod_revision),
            }),
          )
          .sort((a, b) => compareKeys(a.key, b.key));
      }),
    put: (key, value, putOpts) =>
      call(`put ${key}`, async (c) => {
        const builder = c.put(ns + key).value(value);
        if (putOpts?.lease) {
          const id = leaseIds.get(putOpts.lease);
          if (id === undefined)
            throw new KvError(url, 'invalid', `put ${key}: lease ${putOpts.lease.id} is not ours`);
          builder.lease(id);
        }
        await builder.exec();
      }),
    delete: (key, delOpts) =>
      call(`delete ${key}`, async (c) => {
        if (delOpts?.prefix)
          await c
            .delete()
            .prefix(ns + key)
            .exec();
        else
          await c
            .delete()
            .key(ns + key)
            .exec();
      }),
    watch(spec, onChange): Watcher {
      const w: WatchState = {
        spec: normalizeSpec(spec),
        entries: new Map(),
        known: new Map(),
        onChange,
        gate: createSyncGate(),
        closed: closed,
        tombstones: 0,
        pruneAt: 256,
      };
      if (!closed) {
        watches.add(w);
        void applySpec(w);
      }
      checkSynced(w);
      return {
        update(next) {
          if (w.closed) return;
          w.spec = normalizeSpec(next);
          void applySpec(w);
        },
        synced: () => w.gate.wait(),
        close: () => closeWatch(w),
      };
    },
    onNotice(cb) {
      noticeSubscribers.add(cb);
      return () => {
        noticeSubscribers.delete(cb);
      };
    },
    onStatus: (cb) => status.on(cb),
    status: () => status.get(),
    grantLease: (ttlMs) =>
      call('grant lease', async (c) => {
        // etcd counts in whole seconds and may raise a very short TTL to its minimum. The etcd3 client times its
        // keep-alives with setTimeout/setInterval of the TTL in ms: past 2^31 ms those fire at once (a spin, and
        // the lease given up), so a longer TTL is held at LEASE_TTL_MAX_S (24.8 days; the lease still outlives
        // a dead tend by that long, and tend renews it every third of it).
        const ttl = Math.min(LEASE_TTL_MAX_S, Math.max(1, Math.ceil(ttlMs / 1000)));
        const etcdLease = c.lease(ttl, { autoKeepAlive: true });
        const lostCallbacks: Array<() => void> = [];
        let granted = false;
        let revoked = false;
        let lostFired = false;
        etcdLease.on('lost', () => {
          leases.delete(etcdLease);
          if (!granted || revoked || lostFired) return;
          lostFired = true;
          for (const cb of lostCallbacks.splice(0)) cb();
        });
        let id: string;
        try {
          id = String(await etcdLease.grant());
        } catch (err) {
          etcdLease.release();
          throw err;
        }
        granted = true;
        leases.add(etcdLease);
        const lease: Lease = {
          id,
          ttlMs: ttl * 1000,
          revoke: () =>
            call(`revoke lease ${id}`, async () => {
              revoked = true;
              leases.delete(etcdLease);
              await etcdLease.revoke();
            }),
          onLost(cb) {
            if (lostFired) queueMicrotask(cb);
            else lostCallbacks.push(cb);
          },
        };
        leaseIds.set(lease, id);
        return lease;
      }),
    async close() {
      if (closed) return;
      await Promise.all([...watches].map(closeWatch));
      closed = true;
      clearTimeout(historyTimer);
      clearTimeout(oversizeTimer);
      // release() stops keep-alives without revoking: the server expires the leases after their TTL. Without
      // it, etcd3 keeps retrying keep-alives on the closed client until twice the TTL has passed.
      for (const l of leases) l.release();
      leases.clear();
      client?.close();
      client = undefined;
    },
  };
  return backend;
}
