/**
 * Scheduled jobs (seed 000's cron service, without cron): a service with `schedule` is started by its cron
 * expression and otherwise left alone. It runs through the stack like any service (logs, finish hook, stop
 * on shutdown), but the runner leaves it `exited` after each run instead of restarting it. A run still going
 * when the next one is due is skipped and counted, never queued, never run twice at once.
 */
import { Cron } from 'croner';
import type { Bus, ServiceEvent } from '../events/index.js';
import { isLive, type Stack } from '../supervisor/index.js';

export interface JobStatus {
  service: string;
  schedule: string;
  runs: number;
  skipped: number;
  running: boolean;
  /** ISO time of the next due run, if any */
  next?: string;
  last?: { at: string; exitCode: number | null; signal: string | null; durationMs: number };
}

export interface Scheduler {
  /** arms every job's schedule; call once the app is UP */
  start(): void;
  /** disarms the schedules; runs in progress are left to the stack's stop */
  stop(): void;
  /** stop(), and stops following the runs */
  close(): void;
  /** picks up jobs added, removed or re-scheduled by a reload */
  sync(): void;
  status(): JobStatus[];
}

interface Job {
  service: string;
  schedule: string;
  cron: Cron;
  runs: number;
  skipped: number;
  /** set from the moment tend asks for the run until the run's end is seen */
  startedAt?: number;
  last?: JobStatus['last'];
}

/** Throws with a message naming the service when the expression is not valid cron. */
export function parseSchedule(service: string, schedule: string): Cron {
  try {
    return new Cron(schedule, { paused: true, mode: '5-or-6-parts' });
  } catch (err) {
    throw new Error(
      `service ${service}: schedule ${JSON.stringify(schedule)} is not a cron expression (${(err as Error).message}); ` +
        'use 5 fields (minute hour day month weekday) or 6 with seconds first',
    );
  }
}

export function createScheduler(opts: { stack: Stack; bus: Bus }): Scheduler {
  const { stack, bus } = opts;
  const jobs = new Map<string, Job>();
  let armed = false;

  const publishLater = (e: Parameters<Bus['publish']>[0]) => {
    // Publishing from inside a bus listener would hand later listeners the job event before the service
    // event that caused it.
    queueMicrotask(() => bus.publish(e));
  };

  const tick = (job: Job) => {
    const runner = stack.runner(job.service);
    if (!runner) return;
    // a run still going (or its process group still draining) makes this tick a skip
    if (job.startedAt !== undefined || runner.hasProcess() || isLive(runner.model())) {
      job.skipped++;
      bus.publish({ kind: 'job', service: job.service, run: 'skipped', pid: runner.model().pid });
      return;
    }
    job.runs++;
    job.startedAt = performance.now();
    stack.start(job.service, 'scheduled run');
  };

  const onServiceEvent = (e: ServiceEvent) => {
    const job = jobs.get(e.service);
    if (!job) return;
    // A run started by hand (`tend start cleanup`) counts as running too, so the schedule skips over it.
    if (e.to === 'starting' && job.startedAt === undefined) job.startedAt = performance.now();
    if (job.startedAt === undefined) return;
    if (e.to === 'running' && e.pid !== undefined) {
      publishLater({ kind: 'job', service: e.service, run: 'started', pid: e.pid });
      return;
    }
    if (e.to === 'exited' || e.to === 'stopped' || e.to === 'failed') {
      const durationMs = Math.round(performance.now() - job.startedAt); // monotonic: a clock step is no duration
      job.startedAt = undefined;
      job.last = {
        at: new Date().toISOString(),
        exitCode: e.exitCode ?? null,
        signal: e.signal ?? null,
        durationMs,
      };
      publishLater({
        kind: 'job',
        service: e.service,
        run: 'finished',
        exitCode: e.exitCode ?? null,
        signal: e.signal ?? null,
        durationMs,
      });
    }
  };
  const unsubscribe = bus.subscribe((e) => {
    if (e.kind === 'service') onServiceEvent(e);
  });

  const arm = (job: Job) => {
    // `protect` is not used: overlap is decided by the service's real state, which also covers a run
    // started by hand (`tend start cleanup`).
    job.cron = new Cron(job.schedule, { paused: !armed, mode: '5-or-6-parts', catch: true }, () => tick(job));
  };

  const sync = () => {
    const wanted = new Map<string, string>();
    for (const name of stack.names()) {
      const p = stack.runner(name)?.plan;
      if (p?.isJob && p.schedule) wanted.set(name, p.schedule);
    }
    for (const [name, job] of jobs) {
      if (!wanted.has(name)) {
        job.cron.stop();
        jobs.delete(name);
      }
    }
    for (const [name, schedule] of wanted) {
      const job = jobs.get(name);
      if (job?.schedule === schedule) continue;
      parseSchedule(name, schedule).stop();
      if (job) {
        job.cron.stop();
        job.schedule = schedule;
        arm(job);
      } else {
        const fresh = { service: name, schedule, runs: 0, skipped: 0 } as Job;
        arm(fresh);
        jobs.set(name, fresh);
      }
    }
  };
  sync();

  return {
    start() {
      armed = true;
      for (const job of jobs.values()) job.cron.resume();
    },
    stop() {
      armed = false;
      for (const job of jobs.values()) job.cron.pause();
    },
    close() {
      armed = false;
      for (const job of jobs.values()) job.cron.stop();
      unsubscribe();
    },
    sync,
    status: () =>
      [...jobs.values()].map((j) => ({
        service: j.service,
        schedule: j.schedule,
        runs: j.runs,
        skipped: j.skipped,
        running: j.startedAt !== undefined,
        next: armed ? j.cron.nextRun()?.toISOString() : undefined,
        last: j.last,
      })),
  };
}
