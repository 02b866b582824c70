/**
 * The Plan: what a manifest means once it has been parsed, interpolated, validated and filled with defaults.
 * Everything downstream reads this and never the YAML. Durations are milliseconds, sizes are bytes, paths are
 * absolute (resolved against the manifest's folder).
 */
import type { RunAs } from './accounts.js';

export type { RunAs };

export type Signal = NodeJS.Signals;

export type Command = { kind: 'shell'; script: string } | { kind: 'argv'; argv: string[] };

export interface Backoff {
  initialMs: number;
  maxMs: number;
}

export type RestartPolicy = 'always' | 'on-failure' | 'never';

export interface RestartPlan {
  policy: RestartPolicy;
  backoff: Backoff;
  /** failed starts (runs shorter than `minUptimeMs`) within `windowMs` that put the service in `failed` */
  maxFailures: number;
  /** a run shorter than this is a failed start; a longer one is always restarted */
  minUptimeMs: number;
  windowMs: number;
  /** how long a `failed` service waits before it is tried again; 0 = never */
  cooldownMs: number;
  /** uptime after which the failure history and backoff are forgotten */
  resetAfterMs: number;
  /** exit codes after which it is not restarted (`exited`, held until started or its config changes) */
  preventExitCodes: number[];
  /** exit codes that count as a clean exit, as 0 does */
  successExitCodes: number[];
  /**
   * (with `listen:`) a restart spawns the new process first and signals the old one this many ms later (0: at
   * once); undefined: no overlap
   */
  overlapMs?: number;
}

export interface StopPlan {
  signal: Signal;
  timeoutMs: number;
}

export interface LogPlan {
  /** absolute path, or undefined for no file */
  file?: string;
  format: 'raw' | 'json';
  /**
   * a time stamp on each line (raw: `<ISO time> <stream> <text>`, json: the `time` field); without it a raw file
   * holds the bytes the service wrote and nothing else
   */
  timestamps: boolean;
  maxSizeBytes: number;
  keep: number;
  /** mode of a log file tend creates (0640 unless `logs.mode` widens it); an existing file keeps its own */
  mode?: number;
  /** echo each line to tend's stdout, prefixed by the service name */
  stdout: boolean;
}

export type OnChange =
  | { kind: 'restart' }
  | { kind: 'reload' }
  | { kind: 'none' }
  | { kind: 'signal'; signal: Signal }
  | { kind: 'exec'; command: Command };

/**
 * `rollout:` (docs/fleet.md): a change that would restart or reload the service is applied by at most
 * `maxParallel` tends of the app at once, each waiting until the service is ready again; a change the service
 * is not ready with within `readyTimeoutMs` is reverted on that tend and skipped by the others.
 */
export interface RolloutPlan {
  maxParallel: number;
  readyTimeoutMs: number;
  /** where the key is written, `file:line:column`, for errors found once the store is known (tend check, start) */
  at: string;
}

export interface TemplatePlan {
  /** absolute */
  source: string;
  /** absolute */
  destination: string;
  /** file mode, exactly (the umask does not apply); the loader fills in 0o640; undefined means 0o640 too */
  perms?: number;
  /** consul-template's `user` and `group` as written (name or id): who owns the rendered file */
  user?: string;
  group?: string;
  /** `user` and `group` resolved when the manifest loaded (undefined: tend's own) */
  uid?: number;
  gid?: number;
  /** the group of the service's `user:`: the file's group when tend runs as root and the template has no `group` */
  readerGid?: number;
  onChange: OnChange;
  wait: { minMs: number; maxMs: number };
  missing: 'wait' | 'fail' | 'empty';
  missingTimeoutMs: number;
  sentinel?: string;
  /** shell command run with TEND_CHECK_FILE=<new content> before the file goes live */
  check?: string;
  /** custom delimiters, default {{ }} */
  leftDelim: string;
  rightDelim: string;
  /** consul-template's err_missing_key: a missing map key fails the render (else Go's missingkey=zero) */
  errMissingKey: boolean;
  /** functions off by default this template may call (`plugin`, `writeToFile`), and those it may not */
  functions: { allow: string[]; deny: string[] };
  /** the template's own `rollout:`, for the restart or reload its change causes (else the service's) */
  rollout?: RolloutPlan;
}

export type Probe =
  | { kind: 'http'; url: string }
  | { kind: 'tcp'; host: string; port: number }
  | { kind: 'exec'; command: Command }
  | { kind: 'log'; pattern: string };

export interface ReadyPlan {
  probe: Probe;
  /** how often to poll until ready */
  intervalMs: number;
  /** give up (a failed start) after this long */
  timeoutMs: number;
}

export interface HealthPlan {
  probe: Exclude<Probe, { kind: 'log' }>;
  intervalMs: number;
  timeoutMs: number;
  /** failures in a row that make the service unhealthy and restart it */
  failures: number;
  /** delay after start before the first check */
  graceMs: number;
}

export interface RegisterPlan {
  /** defaults to the service name */
  name: string;
  port: number;
  address?: string;
  tags: string[];
  meta: Record<string, string>;
  /** TTL of the lease / Consul TTL check */
  ttlMs: number;
}

export interface EnvFromPlan {
  prefix: string;
}

/** Where a `listen:` socket is bound: a TCP address (IP literal) or a Unix socket path. */
export type ListenAddress =
  | { kind: 'tcp'; host: string; port: number; family: 4 | 6 }
  | { kind: 'unix'; path: string };

/**
 * A socket tend binds once and hands to every start of the service (socket activation, sd_listen_fds(3)):
 * fd 3 + its index, named in LISTEN_FDNAMES.
 */
export interface ListenPlan {
  /** as shown to users: `127.0.0.1:8080`, `[::]:443`, `unix:/abs/path.sock` */
  address: string;
  bind: ListenAddress;
  /** LISTEN_FDNAMES entry; defaults to the service name */
  name: string;
  /** the kernel's accept queue: connections wait there while the service restarts */
  backlog: number;
  /** mode of a Unix socket file (e.g. 0o660); undefined leaves it as the umask makes it */
  mode?: number;
}

export interface ServicePlan {
  name: string;
  /** true when the service runs on `schedule` instead of being kept alive */
  isJob: boolean;
  command: Command;
  cwd: string;
  env: Record<string, string>;
  envFrom: EnvFromPlan[];
  after: string[];
  requires: string[];
  requiresTimeoutMs: number;
  templates: TemplatePlan[];
  ready?: ReadyPlan;
  health?: HealthPlan;
  restart: RestartPlan;
  stop: StopPlan;
  reloadSignal: Signal;
  /** `rollout:`: its config changes roll through the fleet (templates may give their own) */
  rollout?: RolloutPlan;
  /** what a change of the settings overlay (settings.kv_prefix) does to this service */
  settingsOnChange: OnChange;
  /** reload and config signals go to the whole process group, not only the main process */
  signalGroup: boolean;
  /** signals tend forwards to this service when tend receives them (e.g. SIGUSR1) */
  forwardSignals: Signal[];
  register?: RegisterPlan;
  /** absolute command, run after each exit */
  finish?: Command;
  finishTimeoutMs: number;
  logs: LogPlan;
  essential: boolean;
  /** cron expression (5 or 6 fields) for jobs */
  schedule?: string;
  /** user to run as, as written (`name`, `name:group`, `uid`, `uid:gid`), when tend runs as root */
  user?: string;
  /** `user` resolved against /etc/passwd and /etc/group when the manifest loaded */
  runAs?: RunAs;
  /** sockets tend holds open for the service and passes as fds 3, 4, … (empty: none) */
  listen?: ListenPlan[];
}

export interface StagePlan {
  command: Command;
  timeoutMs: number;
}

export interface MonitorPlan extends StagePlan {
  intervalMs: number;
}

export interface SettingsPlan {
  /** inline defaults merged with the defaults file, if any */
  defaults: Record<string, unknown>;
  defaultsFile?: string;
  files: string[];
  schemaFile?: string;
  /** name of the env var holding a JSON override */
  env: string;
  kvPrefix?: string;
  /** settings.on_change as written or defaulted (each service's own is `settingsOnChange`) */
  onChange?: OnChange;
}

export type EventKind = 'app' | 'service' | 'stats' | 'maintenance' | 'config' | 'job' | 'health' | 'finish';

/** Every sink may narrow the event kinds it receives (`events: [app, service]`). */
export type NotifyPlan = { events?: EventKind[] } & (
  | { kind: 'stdout' }
  | { kind: 'webhook'; url: string; timeoutMs: number; queue: number; headers: Record<string, string> }
  /** whaleware's `lifecycle STATE`: the event's new state as argument, the event JSON on stdin */
  | { kind: 'exec'; command: Command; timeoutMs: number }
  | { kind: 'file'; path: string }
  /** key may contain {service} and {app} */
  | { kind: 'kv'; key: string }
);

export interface Plan {
  /** absolute path of the manifest file; undefined for `tend run` */
  file?: string;
  /** the manifest's folder: relative paths resolve against it */
  dir: string;
  name: string;
  dataDir: string;
  stateDir: string;
  http?: string;
  kv: string;
  settings: SettingsPlan;
  stages: {
    boot?: StagePlan;
    firstboot?: StagePlan;
    upgrade?: StagePlan;
    warmup?: StagePlan;
    monitor?: MonitorPlan;
  };
  notify: NotifyPlan[];
  /** enabled services only, keyed by name, in start order */
  services: Record<string, ServicePlan>;
  /** names of services that are defined but disabled (`enabled: false` or not in --only) */
  disabled: string[];
  /** start order: enabled service names, each after its `after` deps */
  order: string[];
}
