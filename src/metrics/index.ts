/**
 * Prometheus metrics of one run. `src/app` creates them with what the scrape reads of the running tend (the
 * stack, the app state, log and sink stats) and hands the counters to every module as `rt.metrics`: the render
 * loop counts renders and watch errors, probes observe their durations, the SSE streams count drops. The
 * control plane serves `scrape()` on `/metrics`. Per-service gauges are read at scrape time, never pushed.
 *
 * This file holds plain numbers only. prom-client (with @opentelemetry/api: ~10 MiB of memory and ~25 ms of
 * start-up) is imported by `prom.ts` on the first scrape or the first health-check duration, so a tend nobody
 * scrapes, whose services have no checks, never loads it (bench/RESULTS.md, F4).
 */
import type { Metrics } from '../runtime/index.js';
import type { HealthObservation, MetricsSource, MetricsState } from './counts.js';
import type { Prom } from './prom.js';

export { APP_STATES, type MetricsSource, SERVICE_STATES } from './counts.js';

// Durations observed while prom-client loads (one tick of disk reads); bounded, and the bound is generous:
// at most one observation per check attempt arrives in that time.
const EARLY_MAX = 10_000;

export function createMetrics(source: MetricsSource): Metrics {
  const state: MetricsState = {
    source,
    templateRenders: 0,
    kvWatchErrors: 0,
    droppedElsewhere: new Map(),
  };
  let prom: Prom | undefined;
  let loading: Promise<Prom> | undefined;
  const early: HealthObservation[] = [];
  const load = (): Promise<Prom> => {
    loading ??= import('./prom.js').then((m) => {
      prom = m.createProm(state);
      for (const o of early.splice(0)) prom.observeHealth(o);
      return prom;
    });
    return loading;
  };
  return {
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
    eventsDropped: {
      inc(consumer, n = 1) {
        state.droppedElsewhere.set(consumer, (state.droppedElsewhere.get(consumer) ?? 0) + n);
      },
    },
    healthCheckDuration: {
      observe(labels, seconds) {
        const o = { ...labels, seconds };
        if (prom) return prom.observeHealth(o);
        if (early.length < EARLY_MAX) early.push(o);
        void load();
      },
    },
    async scrape() {
      return (await load()).scrape();
    },
  };
}
