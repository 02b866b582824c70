/**
 * The contract between the key/value backends and their users (render loop, discovery, settings overlay, CLI).
 * Keys are plain strings using `/` as the folder separator. A prefix is a plain string prefix, as in etcd and
 * Consul: `config/web` also matches `config/web2/x`; end it with `/` to mean "inside this folder".
 */

export type KvKind = 'file' | 'etcd' | 'consul';

export interface KvPair {
  key: string;
  value: string;
  /** etcd mod_revision or Consul ModifyIndex; undefined for the file backend */
  modifyIndex?: number;
}

export interface WatchSpec {
  keys: string[];
  prefixes: string[];
}

/** value undefined means the key was deleted (or is absent) */
export type KvChange = { key: string; value: string | undefined };

export interface KvStatus {
  connected: boolean;
  /** why the store is not usable, while `connected` is false (or a degraded state while true) */
  error?: string;
  /** ms since epoch at which `connected` last changed */
  since: number;
}

/**
 * Something about the store an operator must hear of, once: not a change of a key, not an outage (those go
 * through watch and onStatus). Rare by construction: a backend reports each occurrence once, never per retry.
 * - `reset`: the store's history restarted (etcd back with a lower revision, a lower raft term or another
 *   cluster id: restored from a snapshot, or a new cluster on the same address); every watched key and prefix
 *   was read again and the differences went to the watch callbacks like any change.
 * - `oversize`: a value is larger than the client accepts in one response; it is left out (its last known value
 *   stays) until it is replaced or deleted.
 */
export type KvNotice =
  | { kind: 'reset'; message: string; changed: number }
  | { kind: 'oversize'; message: string; key: string; limitBytes: number };

export interface Watcher {
  /** replaces the watched keys and prefixes; newly watched keys get a silent baseline, not a change */
  update(spec: WatchSpec): void;
  /**
   * Resolves once every watched key and prefix has a baseline. Reads done after it resolves see at least
   * that state, and anything newer will be reported: "watch, await synced(), then read" leaves no gap.
   * Stays pending while the store is unreachable; resolves at once after close().
   */
  synced(): Promise<void>;
  close(): Promise<void>;
}

export interface Lease {
  id: string;
  /** the TTL actually used (backends round it up to what the server accepts) */
  ttlMs: number;
  /** deletes every key put under this lease; keep-alive stops */
  revoke(): Promise<void>;
  /** called once if the server lets the lease expire (e.g. a long outage); its keys are gone then */
  onLost(cb: () => void): void;
}

export interface KvBackend {
  readonly kind: KvKind;
  /** the store's URL with any password or token redacted */
  readonly url: string;
  get(key: string): Promise<string | undefined>;
  /** every key starting with `prefix` (recursive), sorted by key */
  list(prefix: string): Promise<KvPair[]>;
  put(key: string, value: string, opts?: { lease?: Lease }): Promise<void>;
  delete(key: string, opts?: { prefix?: boolean }): Promise<void>;
  /**
   * Calls onChange with batches of differences of watched keys (never a key whose value did not change). Resumes
   * after disconnects; after a gap it cannot replay (etcd compaction, Consul index reset) it re-lists and reports
   * the differences. Never throws, whatever the state of the server.
   */
  watch(spec: WatchSpec, onChange: (changes: KvChange[]) => void): Watcher;
  /** called with each KvNotice (see there); returns an unsubscribe function. Optional: the file store has none */
  onNotice?(cb: (n: KvNotice) => void): () => void;
  /** called on every change of status (connected ↔ outage, or a new error); returns an unsubscribe function */
  onStatus(cb: (s: KvStatus) => void): () => void;
  status(): KvStatus;
  /**
   * `file` folder stores only (no server can expire a key there): refreshes the key's modification time without
   * rewriting it, the keep-alive of a key that readers in other processes judge by its age (`modifiedAt`).
   */
  touch?(key: string): Promise<void>;
  /** `file` folder stores only: ms since epoch of the key's last write or touch; undefined when absent */
  modifiedAt?(key: string): Promise<number | undefined>;
  /**
   * `file` stores only: the absolute path of the store (its folder, or its one YAML/JSON document), for what must
   * live beside it (the rollout semaphore's lock files).
   */
  readonly location?: string;
  /** Consul only: the KV calls of its session recipes (the rollout semaphore), on this backend's client and token */
  readonly sessions?: ConsulSessions;
  /** etcd lease, Consul session with TTL, or an in-memory emulation for `file`; kept alive until revoked */
  grantLease(ttlMs: number): Promise<Lease>;
  /** stops watches and keep-alives; leases are not revoked (etcd/Consul let them expire after their TTL) */
  close(): Promise<void>;
}

/** One KV entry as Consul keeps it: its indexes and the session holding it (if any). */
export interface ConsulEntry {
  key: string;
  value: string;
  createIndex: number;
  modifyIndex: number;
  /** the session that acquired it; absent when nobody holds it */
  session?: string;
}

/**
 * The Consul calls beyond the KvBackend contract that its session recipes need (Consul's "Semaphore" guide):
 * reads that show who holds a key, acquire/release by a session, check-and-set. Keys are relative to the
 * store's namespace, as everywhere; a Lease is a session (`Lease.id` is its ID). Each resolves to Consul's own
 * `true`/`false` answer and rejects (KvError) only when Consul did not answer it.
 */
export interface ConsulSessions {
  /** every entry under `prefix` (recursive, folders left out) with its CreateIndex and holding session */
  entries(prefix: string): Promise<ConsulEntry[]>;
  /** `PUT ?acquire=`: writes `value` and takes the key for the session; false when another session holds it */
  acquire(key: string, value: string, lease: Lease): Promise<boolean>;
  /**
   * `PUT ?release=`: gives the key up (it stays, unheld, and its value becomes empty: Consul writes the request's
   * body, and this sends none); false when the session did not hold it
   */
  release(key: string, lease: Lease): Promise<boolean>;
  /** `PUT ?cas=`: writes only if the key's ModifyIndex is still `modifyIndex` (0: only if the key is absent) */
  cas(key: string, value: string, modifyIndex: number): Promise<boolean>;
}

/** Timings, mostly for tests; defaults suit production. */
export interface KvTiming {
  /** file backend: quiet time after a file-system event before re-reading */
  debounceMs: number;
  /** first retry delay after a failure; doubles up to backoffMaxMs (with jitter) */
  backoffInitialMs: number;
  backoffMaxMs: number;
  /** deadline of a single non-blocking request */
  requestTimeoutMs: number;
  /** Consul: minimum time between the starts of two blocking queries of one watch loop */
  minQueryIntervalMs: number;
}

export const defaultTiming: KvTiming = {
  debounceMs: 50,
  backoffInitialMs: 200,
  backoffMaxMs: 5_000,
  requestTimeoutMs: 10_000,
  minQueryIntervalMs: 500,
};

export interface FileKvConfig {
  kind: 'file';
  url: string;
  /** as written in the URL; relative paths are resolved against openKv's baseDir */
  path: string;
  /** dir: one file per key; yaml/json: one document flattened with `/` */
  format: 'dir' | 'yaml' | 'json';
}

export interface TlsFiles {
  caFile?: string;
  certFile?: string;
  keyFile?: string;
}

export interface EtcdKvConfig extends TlsFiles {
  kind: 'etcd';
  url: string;
  /** host:port */
  endpoints: string[];
  tls: boolean;
  username?: string;
  password?: string;
  /** namespace every key lives under ('' or ending with '/') */
  prefix: string;
}

export interface ConsulKvConfig extends TlsFiles {
  kind: 'consul';
  url: string;
  /** host:port */
  address: string;
  tls: boolean;
  /** CONSUL_HTTP_SSL_VERIFY=false */
  insecure: boolean;
  token?: string;
  tokenFile?: string;
  datacenter?: string;
  prefix: string;
  /** the `wait` of blocking queries */
  waitMs: number;
}

export type KvConfig = FileKvConfig | EtcdKvConfig | ConsulKvConfig;
