/**
 * The Runtime and the shapes modules share through it. A shape lives here when two modules must agree on it
 * without importing each other: the control plane reads what discovery, render and the notify sinks report;
 * discovery reads maintenance mode; health and render count into the metrics.
 */
import type { AppState, Bus } from '../events/index.js';
import type { KvBackend, KvStatus } from '../kv/index.js';
import type { ServiceLog } from '../logs/index.js';
import type { Plan, ServicePlan } from '../manifest/types.js';
import type { ServiceHooks, Stack } from '../supervisor/index.js';
import type { CatalogRequest, CatalogService, ServiceInstance } from '../template/source.js';

export type ServiceHooksFactory = (service: ServicePlan, log: ServiceLog) => ServiceHooks;

/** What a module's `attach` returns: closed in reverse attach order once the services have stopped. */
export interface Attached {
  close(): Promise<void>;
}

/**
 * The one shape of a module plugged into `tend up`: per-service hooks (merged with every other module's, in
 * module order), and an `attach` that runs before the services start and returns its closer.
 */
export interface Module {
  /** for messages: which module failed to attach or close */
  readonly name: string;
  serviceHooks?: ServiceHooksFactory;
  attach?(rt: Runtime): Promise<Attached | undefined>;
}

/** Counters modules drive; the control plane exposes them on `/metrics`. One set per run. */
export interface Metrics {
  templateRenders: { inc(): void; value(): number };
  kvWatchErrors: { inc(): void; value(): number };
  /** for consumers that keep no stats tend can read (SSE clients) */
  eventsDropped: { inc(consumer: string, n?: number): void };
  healthCheckDuration: { observe(labels: { service: string; check: string }, seconds: number): void };
  /** the Prometheus text exposition of every metric, and its content type */
  scrape(): Promise<{ contentType: string; body: string }>;
}

export interface HealthSummary {
  check: 'ready' | 'health';
  ok: boolean;
  /** the check's output when it last changed result, trimmed */
  output?: string;
  /** ISO-8601 */
  time: string;
}

export interface AppTimelineEntry {
  state: AppState;
  from: AppState | null;
  reason?: string;
  /** ISO-8601 */
  time: string;
}

export interface ReloadResult {
  file: string;
  added: string[];
  removed: string[];
  changed: string[];
  unchanged: string[];
  /** top-level keys that changed but need a restart of tend to apply */
  ignored: string[];
  warnings: string[];
}

/**
 * What a running tend keeps beyond the stack: the plan as last applied (it changes on reload), maintenance
 * mode, the last check result per service, and the app's lifecycle timeline.
 */
export interface ControlState {
  /** the plan as last applied: the start-up plan, then each successful reload's */
  plan: Plan;
  /** wall clock, for display */
  readonly startedAt: number;
  /** `performance.now()` at start: uptime comes from it */
  readonly startedMono: number;
  /** the TCP listener's URL once it listens */
  httpUrl?: string;
  maintenance(): boolean;
  setMaintenance(on: boolean, reason?: string): void;
  /** called with the new value on every change; returns the unsubscribe function */
  onMaintenance(listener: (on: boolean) => void): () => void;
  health(service: string): HealthSummary | undefined;
  /**
   * The newest answer of a service's probe, every attempt included: a readiness probe still polling publishes
   * no event (its failures before the port opens are not results), yet `tend status` shows what it answers.
   */
  probeAnswer?(service: string): HealthSummary | undefined;
  /** records a probe's answer (the health module calls it after each attempt) */
  noteProbeAnswer?(service: string, answer: HealthSummary): void;
  timeline(): AppTimelineEntry[];
  /** called after each successful reload with what changed and the new plan */
  onReload(listener: (result: ReloadResult, plan: Plan) => void): () => void;
  reloaded(result: ReloadResult, plan: Plan): void;
  /** serialises reloads: a second one waits for the first */
  exclusive<T>(fn: () => Promise<T>): Promise<T>;
  close(): void;
}

/** Per notify sink: what it delivered, failed, dropped and still holds. */
export interface SinkStats {
  sink: string;
  sent: number;
  failed: number;
  dropped: number;
  queued: number;
  /** the last delivery problem, if any; kept after recovery for `tend status` */
  lastError?: string;
}

/**
 * `template-error`: the template itself does not parse or fails to execute (Go's message, with its file and
 * line); `error`: anything else that kept it from rendering (an unreadable source, an unwritable folder).
 */
export type UnitState =
  | 'pending'
  | 'rendered'
  | 'incomplete'
  | 'template-error'
  | 'error'
  | 'check-failed'
  | 'unreachable';

export interface TemplateStatus {
  service: string;
  source: string;
  destination: string;
  state: UnitState;
  /** why it is not rendered, or what went wrong on the last try (the service keeps its last good file) */
  reason?: string;
  missing?: string[];
  /** ms since epoch of the last write */
  renderedAt?: number;
  /** the KV keys and prefixes (`prefix:PATH`) its last render read, when the render loop reports them */
  keys?: string[];
}

export interface EnvFromStatus {
  service: string;
  prefixes: string[];
  state: UnitState;
  reason?: string;
  /** names of the variables set (never their values) */
  names: string[];
}

/** Templates, env_from and the KV store's connection of a running tend. */
export interface RenderStatus {
  kv: { url: string } & KvStatus;
  templates: TemplateStatus[];
  envFrom: EnvFromStatus[];
}

/**
 * A config change to a service with `rollout:` (docs/fleet.md). The render loop makes it and does not write the
 * files itself; the fleet module rolls it: takes a slot of the app's semaphore in the store, calls `apply`, waits
 * until the service is ready again, and on a timeout calls `revert` and marks the content failed for every tend.
 * The two modules meet through `rt.rollout` (src/app/run.ts wires it), never by import.
 */
export interface RolloutChange {
  service: string;
  /** the content going live: `sha256:<hex>` of the changed file (of the changed files' names and hashes, for several) */
  hash: string;
  /** what changed, as the user wrote the files, for lines and events */
  what: string;
  maxParallel: number;
  readyTimeoutMs: number;
  /** aborted when a newer change of the service supersedes this one (only a change still waiting gives way) */
  signal: AbortSignal;
  /**
   * Writes the files (their `check` first) and restarts or reloads the service. `applied: false` when nothing
   * went live (a check failed; the render loop reported it): there is nothing to wait for. `restart`: the
   * service was restarted (a new process must become ready), else signalled.
   */
  apply(): Promise<{ applied: boolean; restart: boolean }>;
  /** puts the previous files back and restarts the service on them */
  revert(): Promise<void>;
}

/**
 * `applied`: live and ready; `failed`: not ready in time, reverted here and marked failed in the store;
 * `skipped`: another tend marked this content failed, nothing done; `superseded`: a newer change came while
 * this one waited; `not-applied`: its check refused it; `closed`: tend is stopping, or the service was stopped
 * while the change waited for it to be ready (nothing is marked: its not being ready says nothing of the change).
 */
export type RolloutOutcome = 'applied' | 'failed' | 'skipped' | 'superseded' | 'not-applied' | 'closed';

/** `waiting`: for a slot; `applying`: holds one, the service is restarting or not ready yet. */
export type RolloutPhase = 'waiting' | 'applying' | 'done' | 'failed' | 'skipped';

/** A service's rollout now or last (tend status, the fleet document). */
export interface RolloutStatus {
  service: string;
  phase: RolloutPhase;
  /** the content being rolled: `sha256:<hex>` */
  hash: string;
  /** ms since epoch when the phase began */
  since: number;
  /** for failed and skipped: why */
  reason?: string;
}

/** Consul's check states; tend uses passing (healthy), warning (failing, below `failures`) and critical. */
export type InstanceStatus = 'passing' | 'warning' | 'critical';

/** One instance as tend publishes it. */
export interface Registration {
  /** unique per agent / registry: `<name>-<host>-<port>` unless given */
  id: string;
  name: string;
  /** undefined: Consul uses its node's address; the other registries always get one */
  address?: string;
  port: number;
  tags: string[];
  meta: Record<string, string>;
  ttlMs: number;
  /** this host's name */
  node: string;
  status: InstanceStatus;
  /** the last health check's output */
  output?: string;
}

/** A published instance, kept alive by its registry until withdrawn. */
export interface Publication {
  /** changes the status (a health check started or stopped failing) */
  update(status: InstanceStatus, output?: string): Promise<void>;
  /** removes the instance; resolves once the registry no longer lists it */
  withdraw(): Promise<void>;
  /** called once if the registry lost the instance on its own (an etcd lease that expired in an outage) */
  onLost(cb: () => void): void;
}

export interface Watch {
  close(): void;
}

export interface InstanceFilter {
  /** only instances carrying this tag */
  tag?: string;
  /** only `passing` instances (what `requires` and consul-template's `service` use by default) */
  passingOnly?: boolean;
}

/** Discovery as the rest of tend reads it: the registry of the run's KV backend. */
export interface Discovery {
  readonly kind: 'file' | 'etcd' | 'consul';
  /** where instances live, for messages */
  readonly where: string;
  /** the instances of a service now, read from the backend */
  instances(name: string, filter?: InstanceFilter): Promise<ServiceInstance[]>;
  /**
   * Follows a service's instances: onChange gets the filtered list once it is known, then after every change
   * (only real changes). Watches of the same name share one backend watch.
   */
  watch(name: string, onChange: (list: ServiceInstance[]) => void, filter?: InstanceFilter): Watch;
  /** the last list a watch of `name` has seen (every status), or undefined while not watched or not known yet */
  cached(name: string): ServiceInstance[] | undefined;
  services(): Promise<CatalogService[]>;
  watchServices(onChange: (list: CatalogService[]) => void): Watch;
  /**
   * Follows the answer of a template catalog function (`nodes`, `node`, `connect` …): once known, then every
   * change. Throws (CatalogUnsupported) at once when the registry has no such thing (Connect outside Consul).
   */
  watchCatalog(req: CatalogRequest, onChange: (answer: unknown) => void): Watch;
  /** publishes an instance (registrars use it) */
  publish(reg: Registration): Promise<Publication>;
  close(): Promise<void>;
}

/** What every module sees: everything it may read or drive. Built once per run by `src/app`. */
export interface Runtime {
  /** the plan tend started with; `control.plan` is the one last applied (reloads change it) */
  plan: Plan;
  bus: Bus;
  /** the one KV store of this run: render loop, env_from, settings overlay, discovery and kv sinks share it */
  kv: KvBackend;
  stack: Stack;
  env: NodeJS.ProcessEnv;
  out: NodeJS.WritableStream;
  /** stops the stack and ends tend with `code` */
  shutdown(code: number, reason: string): Promise<number>;
  /** the app lifecycle state (BOOT … UP … STOPPED) */
  appState(): AppState;
  /** the effective settings (whaleware CFG): defaults ← files ← $CFG ← KV overlay, validated */
  settings(): Record<string, unknown>;
  /** `<state_dir>/settings.json`, given to every service and stage as TEND_SETTINGS_FILE; none for `tend run` */
  settingsFile?: string;
  /**
   * Re-computes the settings with a new KV overlay (pairs relative to `settings.kv_prefix`), rewrites the
   * file and publishes a `config` event when the value changed. Throws SettingsError, keeping the last value.
   */
  updateSettings(kv: Array<{ key: string; value: string }>): Promise<boolean>;
  /** what SIGHUP does: RESTARTING, running the `onHangup` handlers while the services are down */
  hangup(reason?: string): Promise<void>;
  /** work for SIGHUP while the services are down (the manifest reload); returns the unregister function */
  onHangup(handler: () => Promise<void> | void): () => void;
  /** picks up jobs added, removed or re-scheduled after the stack changed (reload) */
  syncJobs(): void;
  /** per notify sink: sent, failed, dropped, queued */
  notifyStats(): SinkStats[];
  /** the counters of this run */
  metrics: Metrics;
  /** maintenance, reloads, check results, the app timeline */
  control: ControlState;
  /** the registry of the run's KV backend, opened on first use and closed when tend stops */
  discovery(): Discovery;
  /**
   * The environment every child of a service gets (the service, its probes, template checks, on_change exec,
   * finish): process env ← manifest env ← env_from ← tend's TEND_* variables. Callers add only their own extras.
   */
  envOf(service: string): Record<string, string>;
  /**
   * Re-reads the manifest and applies the difference (`tend reload`, SIGHUP). With `start: false` added and
   * changed services are left for the caller to start. Throws when the manifest is invalid: nothing changes.
   */
  reload(opts?: { start?: boolean }): Promise<ReloadResult>;
  /** templates, env_from and the KV connection; undefined when no render module runs */
  renderStatus(): RenderStatus | undefined;
  /**
   * Rolls a change of a service with `rollout:` through the fleet (the fleet module; docs/fleet.md). Undefined
   * when nothing rolls (`tend run`): the render loop then applies changes at once.
   */
  rollout?: (change: RolloutChange) => Promise<RolloutOutcome>;
  /** each service's rollout in progress or last finished (empty when nothing rolls) */
  rolloutStatus(): RolloutStatus[];
  /** the fleet documents in the run's store (`GET /api/fleet`, the dashboard's fleet page); src/fleet reads them */
  fleet?(opts: { app?: string }): Promise<FleetReading>;
}

/**
 * The fleet as the dashboard reads it: what `tend fleet --json` prints (entries, stale, errors; the entries as the
 * store holds them, written by any tend: untrusted) and this tend's own part in it.
 */
export interface FleetReading {
  /** the app listed; undefined: every app in the store */
  app?: string;
  /** whether this tend publishes its own document (TEND_FLEET=on on a store that can hold it) */
  publishing: boolean;
  /** why this store cannot hold the fleet view (Consul, a one-document file store); entries are empty then */
  unsupported?: string;
  /** how a reader finds this tend's own entry: the one with this pid and state_dir */
  self: { pid: number; state_dir: string };
  entries: unknown[];
  stale: string[];
  errors: string[];
}
