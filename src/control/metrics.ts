/**
 * Prometheus metrics: one set per tend process, independent of the HTTP server, so that any module (the
 * render loop, the KV watcher, probes, notify sinks) can count into it without starting anything.
 *
 * Counters other modules drive:  metrics.templateRenders.inc(), metrics.kvWatchErrors.inc(),
 *   metrics.healthCheckDuration.observe({ service, check }, seconds), metrics.eventsDropped.inc(consumer).
 * Per-service gauges are read from the running stack at scrape time (bindMetrics), never pushed per event.
 *
 * This file holds plain numbers only. prom-client (with @opentelemetry/api: ~10 MiB of memory and ~25 ms of
 * start-up) is imported by `prom.ts` on the first scrape or the first health-check duration, so a tend nobody
 * scrapes, whose services have no checks, never loads it (bench/RESULTS.md, F4).
 */
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

/** What the scrape reads; the control attachment binds the running stack to it. */
export interface MetricsSource {
  app: string;
  appState(): AppState;
  services(): ServiceStatus[];
  logStats(service: string): LogStats | undefined;
  maintenance(): boolean;
  /** events each notify sink dropped; `consumer` names the sink without its URL or command */
  notifyDropped(): Array<{ consumer: string; dropped: number }>;
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

const state: MetricsState = {
  source: undefined,
  templateRenders: 0,
  kvWatchErrors: 0,
  droppedElsewhere: new Map(),
};

type Prom = typeof import('./prom.js');
let prom: Prom | undefined;
let loading: Promise<Prom> | undefined;
// Durations observed while prom-client loads (one tick of disk reads); bounded, and the bound is generous:
// at most one observation per check attempt arrives in that time.
const early: HealthObservation[] = [];
const EARLY_MAX = 10_000;

function load(): Promise<Prom> {
  loading ??= import('./prom.js').then((m) => {
    m.init(state);
    for (const o of early.splice(0)) m.observeHealth(o);
    prom = m;
    return m;
  });
  return loading;
}

export const metrics = {
  templateRenders: {
    inc() {
      state.templateRenders++;
    },
    value: () => state.templateRenders,
  },
  kvWatchErrors: {
    inc() {
      state.kvWatchErrors++;
    },
    value: () => state.kvWatchErrors,
  },
  /** for consumers that keep no stats tend can read (notify sinks are read from their own stats) */
  eventsDropped: {
    inc(consumer: string, n = 1) {
      state.droppedElsewhere.set(consumer, (state.droppedElsewhere.get(consumer) ?? 0) + n);
    },
  },
  healthCheckDuration: {
    observe(labels: { service: string; check: string }, seconds: number) {
      const o = { ...labels, seconds };
      if (prom) return prom.observeHealth(o);
      if (early.length < EARLY_MAX) early.push(o);
      void load();
    },
  },
};

/**
 * Makes the scrape read `src`; returns the function that unbinds it. Node's process metrics start when
 * prom-client loads, at the first scrape or health-check duration (their counters, CPU seconds included,
 * still count from the start of the process; the event-loop lag histogram from that moment).
 */
export function bindMetrics(src: MetricsSource): () => void {
  state.source = src;
  return () => {
    if (state.source === src) state.source = undefined;
  };
}

/** The Prometheus text exposition of every metric, and its content type. */
export async function scrape(): Promise<{ contentType: string; body: string }> {
  return (await load()).scrape();
}
