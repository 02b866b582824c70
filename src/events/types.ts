/** Typed events: the one stream that status, notify sinks, metrics and the dashboard read. */

export type AppState =
  | 'BOOT'
  | 'FIRSTBOOT'
  | 'UPGRADING'
  | 'WARMUP'
  | 'UP'
  | 'RESTARTING'
  | 'STOPPING'
  | 'STOPPED'
  | 'ERROR';

export type ServiceState =
  | 'waiting'
  | 'starting'
  | 'running'
  | 'ready'
  | 'unhealthy'
  | 'backoff'
  | 'stopping'
  | 'stopped'
  | 'exited'
  | 'failed';

interface Stamp {
  /** ISO-8601 time */
  time: string;
  /** increasing per tend process, for SSE resume and ordering */
  seq: number;
}

export interface AppEvent extends Stamp {
  kind: 'app';
  from: AppState | null;
  to: AppState;
  reason?: string;
  /** output of a failed stage, trimmed */
  output?: string;
}

export interface ServiceEvent extends Stamp {
  kind: 'service';
  service: string;
  from: ServiceState | null;
  to: ServiceState;
  reason?: string;
  pid?: number;
  exitCode?: number | null;
  signal?: string | null;
  restarts: number;
}

export interface StatsEvent extends Stamp {
  kind: 'stats';
  stats: unknown;
}

/** `tend maintenance on|off`: discovery registrations withdrawn (on) or published again (off). */
export interface MaintenanceEvent extends Stamp {
  kind: 'maintenance';
  on: boolean;
  reason: string;
}

export interface ConfigEvent extends Stamp {
  kind: 'config';
  service?: string;
  destination?: string;
  /**
   * resync: the KV store came back with another history and everything watched was read again;
   * template-error: the template does not parse or fails to execute (the reason names its file and line);
   * rollout: a change rolled through the fleet (`rollout:`, docs/fleet.md) ended as `outcome` says
   */
  action:
    | 'rendered'
    | 'unchanged'
    | 'missing'
    | 'template-error'
    | 'check-failed'
    | 'error'
    | 'settings'
    | 'resync'
    | 'rollout';
  reason?: string;
  missing?: string[];
  /** rollout: the content rolled (`sha256:<hex>`) and how it ended */
  hash?: string;
  outcome?: 'applied' | 'failed' | 'skipped';
}

export interface JobEvent extends Stamp {
  kind: 'job';
  service: string;
  run: 'started' | 'finished' | 'skipped';
  pid?: number;
  exitCode?: number | null;
  signal?: string | null;
  durationMs?: number;
}

export interface HealthEvent extends Stamp {
  kind: 'health';
  service: string;
  check: 'ready' | 'health';
  ok: boolean;
  output?: string;
}

export interface FinishEvent extends Stamp {
  kind: 'finish';
  service: string;
  ok: boolean;
  exitCode?: number | null;
  output?: string;
}

export type TendEvent =
  | AppEvent
  | ServiceEvent
  | StatsEvent
  | MaintenanceEvent
  | ConfigEvent
  | JobEvent
  | HealthEvent
  | FinishEvent;

/** What a publisher supplies; the bus stamps time and seq. */
export type EventInput = TendEvent extends infer E
  ? E extends TendEvent
    ? Omit<E, 'time' | 'seq'>
    : never
  : never;
