/**
 * What the status view and the dashboard show beyond the stack's own state, collected per run: CPU and memory
 * of each service's process group (sampled from /proc into a bounded ring), its crashes and restarts (a
 * bounded timeline), the runs of each job and their last result, the deadline of each backoff (so that
 * "restarting in" counts down), and the settings the store offered and tend refused. Everything is read
 * from the bus and /proc; nothing here can slow the supervisor (listeners only record, the sampler is one
 * scan of /proc every few seconds, unref'd, and only while someone looks: a status or the dashboard).
 */
import type { TendEvent } from '../events/index.js';
import { groupUsage, procAvailable } from '../procs/index.js';
import type { Runtime } from '../runtime/index.js';
import { isLive } from '../supervisor/index.js';
import { formatDuration } from '../time/index.js';

/** Seconds between two samples, and how many are kept: 10 minutes. */
export const SAMPLE_EVERY_MS = 5000;
/** How long sampling goes on after the last look (a status, the dashboard's poll): the charts' window. */
const WATCH_MS = 10 * 60_000;
export const SAMPLES_KEPT = 120;
const TIMELINE_KEPT = 200;

export interface Usage {
  /** percent of one CPU over the last sample period */
  cpu: number;
  rssBytes: number;
  processes: number;
}

export interface JobSummary {
  runs: number;
  running: boolean;
  last?: { exitCode?: number | null; signal?: string | null; durationMs?: number; at: number; ok: boolean };
}

export interface RestartMark {
  service: string;
  /** ms since the epoch */
  at: number;
  /** `exit 1`, `SIGKILL`, `restart` (asked for), `failed`, `unhealthy` */
  what: string;
}

/** The charts' data: one time axis, and per service the CPU percent and resident bytes (null: not running). */
export interface SamplesView {
  everyMs: number;
  times: number[];
  services: Record<string, { cpu: Array<number | null>; rss: Array<number | null> }>;
  restarts: RestartMark[];
}

export interface Samples {
  usage(service: string): Usage | undefined;
  job(service: string): JobSummary | undefined;
  /** ms since the epoch when a service backing off (or failed, with a cooldown) will be started again */
  backoffUntil(service: string): number | undefined;
  /** the last settings refused (a KV overlay that failed validation), while no good one came after */
  settingsRefused(): { at: number; reason: string } | undefined;
  view(): SamplesView;
  /** takes one sample now (tests; the timer does it otherwise) */
  sample(now?: number): void;
  close(): void;
}

/** `restarting in 350ms` (backoff), `retrying in 5m` (a failed service's cooldown), as the machine words them. */
export const COUNTDOWN = /(restarting|retrying) in ((?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+)/;

/** Milliseconds of a duration as formatDuration writes it: `350ms`, `1.5s`, `1m30s`, `2h05m`. */
export function parseShownDuration(text: string): number | undefined {
  const unit: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
  let total = 0;
  let matched = '';
  for (const m of text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)) {
    total += Number(m[1]) * unit[m[2]];
    matched += m[0];
  }
  return matched === text && matched !== '' ? total : undefined;
}

/** The machine's reason with its "restarting in …" counted down to `now`. */
export function countingDown(reason: string | undefined, retryAt: number | undefined, now = Date.now()) {
  if (retryAt === undefined || !reason) return reason;
  return reason.replace(
    COUNTDOWN,
    (_m, what: string) => `${what} in ${formatDuration(Math.max(0, retryAt - now))}`,
  );
}

function countdownMs(reason: string | undefined): number | undefined {
  const m = reason ? COUNTDOWN.exec(reason) : null;
  return m ? parseShownDuration(m[2]) : undefined;
}

const registry = new WeakMap<Runtime, Samples>();

/** The run's collector, started on first use (the control server starts it with the run). */
export function samplesOf(rt: Runtime): Samples {
  let s = registry.get(rt);
  if (!s) {
    // TEND_SAMPLE_MS: a shorter period for tests and demos (never below 200 ms)
    const every = Number(rt.env.TEND_SAMPLE_MS);
    s = startSamples(rt, Number.isFinite(every) && every > 0 ? Math.max(200, every) : SAMPLE_EVERY_MS);
    registry.set(rt, s);
  }
  return s;
}

export function startSamples(rt: Runtime, everyMs = SAMPLE_EVERY_MS): Samples {
  const jobs = new Map<string, JobSummary>();
  const backoff = new Map<string, number>();
  const restarts: RestartMark[] = [];
  let refused: { at: number; reason: string } | undefined;
  const times: number[] = [];
  const series = new Map<string, { cpu: Array<number | null>; rss: Array<number | null> }>();
  const usage = new Map<string, Usage>();
  /** per service: the pid and CPU seconds of the last sample, for the rate */
  const lastCpu = new Map<string, { pid: number; cpuSeconds: number; at: number }>();

  const mark = (m: RestartMark) => {
    restarts.push(m);
    if (restarts.length > TIMELINE_KEPT) restarts.splice(0, restarts.length - TIMELINE_KEPT);
  };

  const see = (e: TendEvent) => {
    const at = Date.parse(e.time);
    switch (e.kind) {
      case 'service': {
        const delay = e.to === 'backoff' || e.to === 'failed' ? countdownMs(e.reason) : undefined;
        if (delay !== undefined) backoff.set(e.service, at + delay);
        else backoff.delete(e.service);
        const exited = e.exitCode !== undefined || (e.signal !== undefined && e.signal !== null);
        if (exited && e.from !== 'stopping' && e.to !== 'stopped') {
          mark({ service: e.service, at, what: e.signal ? e.signal : `exit ${e.exitCode}` });
        } else if (e.to === 'stopping' && e.reason && /restart/i.test(e.reason)) {
          mark({ service: e.service, at, what: 'restart' });
        } else if (e.to === 'unhealthy') mark({ service: e.service, at, what: 'unhealthy' });
        if (e.to === 'failed') mark({ service: e.service, at, what: 'failed' });
        break;
      }
      case 'job': {
        const j = jobs.get(e.service) ?? { runs: 0, running: false };
        if (e.run === 'started') {
          j.runs++;
          j.running = true;
        } else if (e.run === 'finished') {
          j.running = false;
          const ok = e.exitCode === 0 && !e.signal;
          j.last = { exitCode: e.exitCode, signal: e.signal, durationMs: e.durationMs, at, ok };
        }
        jobs.set(e.service, j);
        break;
      }
      case 'config':
        if (e.action === 'error' && e.reason && /settings .* refused/.test(e.reason)) {
          refused = { at, reason: e.reason };
        } else if (e.action === 'settings') refused = undefined;
        break;
      default:
        break;
    }
  };
  for (const e of rt.bus.recent()) see(e);
  const unsubscribe = rt.bus.subscribe(see);

  const sample = (now = Date.now()) => {
    const live = new Map<string, number>();
    for (const name of rt.stack.names()) {
      const st = rt.stack.runner(name)?.status();
      if (st?.pid && isLive(st)) live.set(name, st.pid);
    }
    const found = procAvailable() ? groupUsage(live.values()) : new Map();
    usage.clear();
    times.push(now);
    const drop = times.length > SAMPLES_KEPT ? times.length - SAMPLES_KEPT : 0;
    if (drop) times.splice(0, drop);
    for (const name of new Set([...series.keys(), ...live.keys()])) {
      let s = series.get(name);
      if (!s) {
        s = { cpu: new Array(times.length - 1).fill(null), rss: new Array(times.length - 1).fill(null) };
        series.set(name, s);
      } else if (drop) {
        s.cpu.splice(0, drop);
        s.rss.splice(0, drop);
      }
      const pid = live.get(name);
      const u = pid === undefined ? undefined : found.get(pid);
      if (!u || pid === undefined) {
        s.cpu.push(null);
        s.rss.push(null);
        lastCpu.delete(name);
        continue;
      }
      const prev = lastCpu.get(name);
      // a new process (restart) starts its own count; CPU time of members that exited is not in the sum
      const cpu =
        prev && prev.pid === pid && now > prev.at
          ? Math.max(0, ((u.cpuSeconds - prev.cpuSeconds) * 1000 * 100) / (now - prev.at))
          : 0;
      lastCpu.set(name, { pid, cpuSeconds: u.cpuSeconds, at: now });
      const rounded = Math.round(cpu * 10) / 10;
      usage.set(name, { cpu: rounded, rssBytes: u.rssBytes, processes: u.processes });
      s.cpu.push(rounded);
      s.rss.push(u.rssBytes);
    }
    // services gone for the whole window (removed by a reload) leave the charts
    for (const [name, s] of series) if (s.rss.every((v) => v === null)) series.delete(name);
  };

  // Sampling runs only while someone looks (a status, the dashboard), and for WATCH_MS after: an idle tend
  // nobody watches keeps no timer shorter than a second (bench: idle wake-ups). The events behind jobs,
  // countdowns and the restart timeline are heard all the time.
  let timer: NodeJS.Timeout | undefined;
  let watchedUntil = 0;
  const watch = () => {
    watchedUntil = performance.now() + WATCH_MS;
    if (timer) return;
    sample();
    timer = setInterval(() => {
      if (performance.now() > watchedUntil) {
        clearInterval(timer);
        timer = undefined;
        return;
      }
      sample();
    }, everyMs);
    timer.unref();
  };

  return {
    usage: (name) => {
      watch();
      return usage.get(name);
    },
    job: (name) => jobs.get(name),
    backoffUntil: (name) => backoff.get(name),
    settingsRefused: () => refused,
    view: () => {
      watch();
      return {
        everyMs,
        times: [...times],
        services: Object.fromEntries([...series].map(([n, s]) => [n, { cpu: [...s.cpu], rss: [...s.rss] }])),
        restarts: [...restarts],
      };
    },
    sample,
    close() {
      if (timer) clearInterval(timer);
      unsubscribe();
      registry.delete(rt);
    },
  };
}
