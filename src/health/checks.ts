/**
 * The checks of one service, as ServiceHooks for its runner: readiness polled from spawn until it passes or
 * `ready.timeout` ends it (a failed start), then liveness every `health.interval`, where `health.failures`
 * failures in a row make the service unhealthy. Each result is reported (event and log line) only when it
 * differs from the last one of the same check; the newest result of each check is kept for status.
 *
 * Every probe belongs to one generation (one process of the service): stopProbes and a new spawn end the
 * generation, and a result that arrives afterwards is dropped, so a slow check can never act on the next process.
 */
import type { EventInput, HealthEvent } from '../events/index.js';
import type { LogLine, ServiceLog } from '../logs/index.js';
import type { HealthPlan, ReadyPlan, ServicePlan } from '../manifest/types.js';
import type { ServiceHooks } from '../supervisor/index.js';
// The leaf file, not the template index: health loads at every start, the template engine only with templates.
import { boundedTest } from '../template/bounded-regexp.js';
import { formatDuration, type LongTimer, setLongTimeout } from '../time/index.js';
import { type AttemptProbe, type ProbeResult, runProbe } from './probe.js';

export type CheckKind = 'ready' | 'health';

export interface CheckResult {
  check: CheckKind;
  ok: boolean;
  output: string;
  /** ms since the epoch */
  at: number;
  /** failures in a row so far (health) */
  failures: number;
}

export interface ServiceChecksOptions {
  service: ServicePlan;
  /** the service's log: log readiness reads its lines, and result changes are noted in it */
  log?: ServiceLog;
  /** the environment exec probes run with (the service's); read at each attempt */
  env?: () => NodeJS.ProcessEnv;
  /** where HealthEvents go (the bus); read at each report, so it can be bound after the hooks exist */
  publish?: (event: EventInput) => void;
  /** told how long each probe attempt took (the duration histogram of /metrics) */
  observe?: (check: CheckKind, seconds: number) => void;
  /** every attempt's answer, for `tend status` (no event: a polling failure is not a result) */
  answered?: (check: CheckKind, result: ProbeResult) => void;
}

export interface ServiceChecks {
  hooks: ServiceHooks;
  /** the newest result of each check of the current process */
  last(): { ready?: CheckResult; health?: CheckResult };
}

/** Per-attempt limit of a readiness probe: long enough for a slow answer, short enough to poll again. */
function attemptTimeout(plan: ReadyPlan, remainingMs: number): number {
  return Math.max(1, Math.min(remainingMs, Math.max(1000, plan.intervalMs * 4), 10_000));
}

export function createServiceChecks(opts: ServiceChecksOptions): ServiceChecks {
  const sp = opts.service;
  let generation = 0;
  // Elapsed times (grace, intervals, the ready deadline) from the monotonic clock: with the wall clock, a step
  // back during a check put the next one an hour away. `at` of a result stays a wall-clock date.
  let spawnedAt = performance.now();
  // user durations (interval, grace) can be long: LongTimers do not fire early past 24.8 days
  const timers = new Set<LongTimer>();
  let abort: AbortController | undefined;
  let unsubscribeLog: (() => void) | undefined;
  let readyResult: CheckResult | undefined;
  let healthResult: CheckResult | undefined;
  /** what was last reported per check, to report changes only */
  const reported = new Map<CheckKind, boolean>();

  const later = (ms: number, fn: () => void) => {
    const t = setLongTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  };

  const endGeneration = () => {
    generation++;
    for (const t of timers) t.clear();
    timers.clear();
    abort?.abort();
    abort = undefined;
    unsubscribeLog?.();
    unsubscribeLog = undefined;
  };

  const attempt = async (check: CheckKind, probe: AttemptProbe, timeoutMs: number): Promise<ProbeResult> => {
    abort ??= new AbortController();
    const t0 = performance.now();
    const r = await runProbe(probe, {
      timeoutMs,
      cwd: sp.cwd,
      env: opts.env?.() ?? process.env,
      user: sp.runAs,
      signal: abort.signal,
    });
    opts.observe?.(check, (performance.now() - t0) / 1000);
    opts.answered?.(check, r);
    return r;
  };

  const report = (result: CheckResult, text: string) => {
    if (reported.get(result.check) === result.ok) return;
    reported.set(result.check, result.ok);
    opts.log?.note(text);
    const event: Omit<HealthEvent, 'time' | 'seq'> = {
      kind: 'health',
      service: sp.name,
      check: result.check,
      ok: result.ok,
      output: result.output,
    };
    opts.publish?.(event);
  };

  const pollReady = (plan: ReadyPlan, done: (ok: boolean, reason?: string) => void) => {
    const gen = generation;
    const started = performance.now();
    const deadline = started + plan.timeoutMs;
    const finish = (ok: boolean, output: string) => {
      if (gen !== generation) return;
      unsubscribeLog?.();
      unsubscribeLog = undefined;
      for (const t of timers) t.clear();
      timers.clear();
      readyResult = { check: 'ready', ok, output, at: Date.now(), failures: ok ? 0 : 1 };
      const took = formatDuration(Math.round(performance.now() - started));
      if (ok) {
        report(readyResult, `ready after ${took}: ${output}`);
        done(true);
      } else {
        const reason = `not ready within ${formatDuration(plan.timeoutMs)}${output ? ` (last: ${output})` : ''}`;
        report(readyResult, reason);
        done(false, reason);
      }
    };

    if (plan.probe.kind === 'log') {
      let re: RegExp;
      try {
        re = new RegExp(plan.probe.pattern);
      } catch (err) {
        finish(false, `bad regular expression: ${(err as Error).message}`);
        return;
      }
      if (!opts.log) {
        finish(false, 'log readiness needs the service log');
        return;
      }
      unsubscribeLog = opts.log.onLine((line: LogLine) => {
        // tend's own notes about the service are not the service's output
        if (line.stream === 'tend') return;
        let matched: boolean;
        try {
          matched = boundedTest(re, line.text);
        } catch (err) {
          // A backtracking pattern would hold the event loop, and every other service with it.
          finish(false, (err as Error).message);
          return;
        }
        if (matched) finish(true, `log line matched: ${line.text}`);
      });
      later(plan.timeoutMs, () => finish(false, `no output line matched /${re.source}/`));
      return;
    }

    const probe = plan.probe;
    let last = '';
    const tryOnce = async () => {
      if (gen !== generation) return;
      const begun = performance.now();
      const remaining = deadline - begun;
      if (remaining <= 0) return finish(false, last);
      const timeout = attemptTimeout(plan, remaining);
      const r = await attempt('ready', probe, timeout);
      if (gen !== generation) return;
      if (r.ok) return finish(true, r.output);
      // An attempt the readiness deadline cut short says nothing about the service: the reason keeps the
      // last answer the probe gave in its own time ("exit code 1", not "timed out after 2ms").
      const cutByDeadline = timeout === Math.max(1, remaining) && performance.now() >= deadline;
      if (!(cutByDeadline && last)) last = r.output;
      const next = begun + plan.intervalMs;
      if (next >= deadline) later(Math.max(0, deadline - performance.now()), () => finish(false, last));
      else later(Math.max(0, next - performance.now()), () => void tryOnce());
    };
    void tryOnce();
  };

  const checkHealth = (plan: HealthPlan, unhealthy: (reason: string) => void) => {
    const gen = generation;
    let streak = 0;
    const run = async () => {
      if (gen !== generation) return;
      const begun = performance.now();
      const r = await attempt('health', plan.probe, plan.timeoutMs);
      if (gen !== generation) return;
      streak = r.ok ? 0 : streak + 1;
      healthResult = { check: 'health', ok: r.ok, output: r.output, at: Date.now(), failures: streak };
      if (r.ok) report(healthResult, `health check passing: ${r.output}`);
      else report(healthResult, `health check failing: ${r.output}`);
      if (streak >= plan.failures) {
        const times =
          plan.failures === 1 ? 'health check failed' : `${plan.failures} health checks failed in a row`;
        unhealthy(`${times} (last: ${r.output})`);
        return;
      }
      // start to start, never overlapping: a check slower than the interval is followed at once
      later(Math.max(0, begun + plan.intervalMs - performance.now()), () => void run());
    };
    later(Math.max(0, spawnedAt + plan.graceMs - performance.now()), () => void run());
  };

  const hooks: ServiceHooks = {
    onSpawn() {
      endGeneration();
      spawnedAt = performance.now();
      readyResult = undefined;
      healthResult = undefined;
      reported.clear();
    },
    stopProbes() {
      endGeneration();
    },
  };
  if (sp.ready) {
    const plan = sp.ready;
    hooks.probeReady = (done) => pollReady(plan, done);
  }
  if (sp.health) {
    const plan = sp.health;
    hooks.probeHealth = (unhealthy) => checkHealth(plan, unhealthy);
  }
  return {
    hooks,
    last: () => ({ ready: readyResult, health: healthResult }),
  };
}
