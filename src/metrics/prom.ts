/**
 * The prom-client side of index.ts, imported on first need: a registry per run, every tend_* metric reading
 * the plain counts of index.ts at scrape time, and Node's default process metrics.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { VERSION } from '../runtime/version.js';
import { exitStatus } from '../supervisor/spawn.js';
import { isReady, isRunning } from '../supervisor/state.js';
import {
  APP_STATES,
  type HealthObservation,
  type MetricsSource,
  type MetricsState,
  SERVICE_STATES,
} from './counts.js';

const serviceLabels = ['service'] as const;

export interface Prom {
  observeHealth(o: HealthObservation): void;
  scrape(): Promise<{ contentType: string; body: string }>;
}

/** The registry of one run, reading `st` at every scrape. */
export function createProm(st: MetricsState): Prom {
  const registry = new Registry();
  const source = (): MetricsSource | undefined => st.source;

  new Counter({
    name: 'tend_template_renders_total',
    help: 'Templates rendered (files whose content changed and went live).',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(st.templateRenders ?? 0);
    },
  });
  new Counter({
    name: 'tend_kv_watch_errors_total',
    help: 'Errors of KV store watches (each one is retried with backoff).',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(st.kvWatchErrors ?? 0);
    },
  });

  new Counter({
    name: 'tend_events_dropped_total',
    help: 'Events a slow or dead consumer did not get: a notify sink (by position and kind) or an SSE client.',
    labelNames: ['consumer'] as const,
    registers: [registry],
    collect() {
      this.reset();
      this.inc({ consumer: 'sse' }, 0);
      for (const [consumer, n] of st.droppedElsewhere) this.inc({ consumer }, n);
      for (const s of source()?.notifyDropped() ?? []) this.inc({ consumer: s.consumer }, s.dropped);
    },
  });
  // A sink's name may carry a URL with a token or a command line: labelled by position and kind only.
  const sinkLabels = (s: { sink: string }, i: number) => ({ sink: String(i), kind: s.sink.split(' ')[0] });
  new Counter({
    name: 'tend_notify_events_total',
    help: 'Events each notify sink (by position in notify: and kind) delivered (sent), gave up on (failed) or dropped (queue full, or still queued when the flush at stop ran out of time).',
    labelNames: ['sink', 'kind', 'outcome'] as const,
    registers: [registry],
    collect() {
      this.reset();
      (source()?.notifySinks?.() ?? []).forEach((s, i) => {
        for (const outcome of ['sent', 'failed', 'dropped'] as const)
          this.inc({ ...sinkLabels(s, i), outcome }, s[outcome]);
      });
    },
  });
  new Gauge({
    name: 'tend_notify_queued',
    help: 'Events waiting in each notify sink (by position and kind), including those being retried.',
    labelNames: ['sink', 'kind'] as const,
    registers: [registry],
    collect() {
      this.reset();
      (source()?.notifySinks?.() ?? []).forEach((s, i) => {
        this.set(sinkLabels(s, i), s.queued);
      });
    },
  });
  const healthCheckDuration = new Histogram({
    name: 'tend_health_check_duration_seconds',
    help: 'Duration of readiness and health checks.',
    labelNames: ['service', 'check'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });

  new Gauge({
    name: 'tend_service_up',
    help: '1 while the service has a running process.',
    labelNames: serviceLabels,
    registers: [registry],
    collect() {
      this.reset();
      for (const s of source()?.services() ?? []) {
        this.set({ service: s.name }, isRunning(s) ? 1 : 0);
      }
    },
  });

  new Gauge({
    name: 'tend_service_ready',
    help: '1 while the service is ready (its probe passed, or it runs and has none).',
    labelNames: serviceLabels,
    registers: [registry],
    collect() {
      this.reset();
      for (const s of source()?.services() ?? []) this.set({ service: s.name }, isReady(s) ? 1 : 0);
    },
  });

  new Gauge({
    name: 'tend_service_state',
    help: 'The state of each service, one-hot: 1 for the current state, 0 for the others.',
    labelNames: ['service', 'state'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const s of source()?.services() ?? []) {
        for (const state of SERVICE_STATES) this.set({ service: s.name, state }, s.state === state ? 1 : 0);
      }
    },
  });

  new Counter({
    name: 'tend_service_restarts_total',
    help: 'Times the service was started again after its first start.',
    labelNames: serviceLabels,
    registers: [registry],
    collect() {
      this.reset();
      for (const s of source()?.services() ?? []) this.inc({ service: s.name }, s.restarts);
    },
  });

  new Gauge({
    name: 'tend_service_uptime_seconds',
    help: 'Seconds since the current process of the service started; 0 when it does not run.',
    labelNames: serviceLabels,
    registers: [registry],
    collect() {
      this.reset();
      for (const s of source()?.services() ?? []) this.set({ service: s.name }, (s.uptimeMs ?? 0) / 1000);
    },
  });

  new Gauge({
    name: 'tend_service_last_exit_code',
    help: 'Exit status of the last process of the service (128 + signal number when killed by a signal).',
    labelNames: serviceLabels,
    registers: [registry],
    collect() {
      this.reset();
      for (const s of source()?.services() ?? []) {
        if (s.lastExit) this.set({ service: s.name }, exitStatus(s.lastExit.code, s.lastExit.signal));
      }
    },
  });

  new Counter({
    name: 'tend_log_lines_dropped_total',
    help: 'Log lines of the service that never reached its log file (write errors, full disk).',
    labelNames: serviceLabels,
    registers: [registry],
    collect() {
      this.reset();
      for (const s of source()?.services() ?? []) {
        this.inc({ service: s.name }, source()?.logStats(s.name)?.dropped ?? 0);
      }
    },
  });

  new Gauge({
    name: 'tend_app_state',
    help: 'The app lifecycle state, one-hot.',
    labelNames: ['state'] as const,
    registers: [registry],
    collect() {
      this.reset();
      const src = source();
      if (!src) return;
      const current = src.appState();
      for (const state of APP_STATES) this.set({ state }, current === state ? 1 : 0);
    },
  });

  new Gauge({
    name: 'tend_info',
    help: 'Always 1; the labels name the app and the version of tend.',
    labelNames: ['app', 'version'] as const,
    registers: [registry],
    collect() {
      this.reset();
      const src = source();
      if (src) this.set({ app: src.app, version: VERSION }, 1);
    },
  });

  new Gauge({
    name: 'tend_maintenance',
    help: '1 while maintenance mode is on (services deregistered from discovery, still running).',
    registers: [registry],
    collect() {
      this.set(source()?.maintenance() ? 1 : 0);
    },
  });

  // The event-loop lag histogram samples every 10 ms by default: 100 wake-ups a second of an idle tend
  // (bench/RESULTS.md, F1). Once a second is plenty for a supervisor's lag.
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 1000 });
  return {
    observeHealth(o) {
      healthCheckDuration.observe({ service: o.service, check: o.check }, o.seconds);
    },
    async scrape() {
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}
