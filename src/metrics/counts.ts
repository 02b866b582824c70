/** The plain numbers and shapes of metrics, shared by index.ts and the lazily loaded prom.ts. */
import type { AppState, ServiceState } from '../events/index.js';
import type { LogStats } from '../logs/index.js';
import type { ServiceStatus } from '../supervisor/service.js';

export const SERVICE_STATES: readonly ServiceState[] = [
  'waiting',
  'starting',
  'running',
  'ready',
  'unhealthy',
  'backoff',
  'stopping',
  'stopped',
  'exited',
  'failed',
];

export const APP_STATES: readonly AppState[] = [
  'BOOT',
  'FIRSTBOOT',
  'UPGRADING',
  'WARMUP',
  'UP',
  'RESTARTING',
  'STOPPING',
  'STOPPED',
  'ERROR',
];

/** What the scrape reads of the running tend; `src/app` gives it when it creates the metrics. */
export interface MetricsSource {
  app: string;
  appState(): AppState;
  services(): ServiceStatus[];
  logStats(service: string): LogStats | undefined;
  maintenance(): boolean;
  /** events each notify sink dropped; `consumer` names the sink without its URL or command */
  notifyDropped(): Array<{ consumer: string; dropped: number }>;
  /** each notify sink's counters in manifest order; `sink` is a name that may carry a URL or a command */
  notifySinks?(): Array<{ sink: string; sent: number; failed: number; dropped: number; queued: number }>;
}

export interface HealthObservation {
  service: string;
  check: string;
  seconds: number;
}

/** The counts prom.ts exposes; only this module writes them. */
export interface MetricsState {
  source: MetricsSource | undefined;
  templateRenders: number;
  kvWatchErrors: number;
  /** drops counted by consumers that keep no stats of their own (SSE clients), by consumer */
  droppedElsewhere: Map<string, number>;
}
