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
  GRPCUnauthenticatedError,
  GRPCUnavailableError,
  type IOptions,
  type IRangeResponse,
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
  syncing: boolean;
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

  const toKvError = (err: unknown, what: string): KvError => {
    if (err instanceof KvError) return err;
    const msg = errorMessage(err);
    if (
      err instanceof EtcdPermissionDeniedError ||
      err instanceof EtcdAuthenticationFailedError ||
      err instanceof GRPCUnauthenticatedError
    ) {
      return new KvError(url, 'denied', `${what}: ${msg}`, { cause: err });
    }
    if (
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
      faultHandling: { host: () => passthrough, global: passthrough, watchBackoff: watchBackoff(timing, -1) },
      grpcOptions: {
        // grpc-js backs off up to 2 minutes between reconnects by default; an outage must end promptly
        'grpc.initial_reconnect_backoff_ms': timing.backoffInitialMs,
        'grpc.max_reconnect_backoff_ms': timing.backoffMaxMs,
        // a silently dead peer (no RST) is noticed within ~15 s; etcd refuses pings more often than every 5 s
        'grpc.keepalive_time_ms': 10_000,
        'grpc.keepalive_timeout_ms': 5_000,
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

  const call = async <T>(what: string, fn: (c: Etcd3) => Promise<T>): Promise<T> => {
    try {
      const result = await fn(getClient());
      status.set(true);
      return result;
    } catch (err) {
      const e = toKvError(err, what);
      noteFailure(e);
      throw e;
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

  /** Ranges the entry, reports differences from the known state (if it had a baseline) and watches on. */
  const sync = async (w: WatchState, e: Entry): Promise<void> => {
    if (!e.active || e.syncing) return;
    e.syncing = true;
    clearTimeout(e.timer);
    e.timer = undefined;
    try {
      const res = await range(getClient(), e);
      status.set(true);
      if (!e.active) return;
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
      for (const [key, known] of [...w.known]) {
        if (covers(e, key) && !seen.has(key) && known.value !== undefined) consider(key, undefined, revision);
      }
      e.synced = true;
      e.rev = revision;
      e.attempt = 0;
      startWatcher(w, e);
      checkSynced(w);
      pruneTombstones(w);
      deliver(w.onChange, netChanges(w, before, touched));
    } catch (err) {
      const kvErr = toKvError(err, `watch ${e.name}`);
      noteFailure(kvErr);
      if (kvErr.code === 'closed' || !e.active) return;
      e.timer = setTimeout(() => void sync(w, e), backoffDelay(e.attempt++, timing));
    } finally {
      e.syncing = false;
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

  const onEvents = (w: WatchState, e: Entry, res: IWatchResponse) => {
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
    watcher.on('connected', () => {
      if (mine()) status.set(true);
    });
    watcher.on('disconnected', (err) => {
      if (!mine()) return;
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

  const dropEntry = (e: Entry) => {
    e.active = false;
    clearTimeout(e.timer);
    const watcher = e.watcher;
    e.watcher = undefined;
    return watcher ? watcher.cancel().catch(() => {}) : Promise.resolve();
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
        syncing: false,
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
    onStatus: (cb) => status.on(cb),
    status: () => status.get(),
    grantLease: (ttlMs) =>
      call('grant lease', async (c) => {
        // etcd counts in whole seconds and may raise a very short TTL to its minimum
        const ttl = Math.max(1, Math.ceil(ttlMs / 1000));
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
