/**
 * The app lifecycle, whaleware's: BOOT → (FIRSTBOOT) → (UPGRADING) → WARMUP → UP, then the monitor, with
 * RESTARTING on a failed monitor or SIGHUP, STOPPING → STOPPED on the way out, ERROR when a stage fails.
 * It is the one machine above the services: it runs the stages, and drives the stack only through its
 * public calls (startAll, stop, status). Every change of state is an `app` event.
 *
 * States are published only for what happens: FIRSTBOOT when `firstboot` actually runs, UPGRADING when
 * there is an `upgrade` stage. BOOT and WARMUP always appear (WARMUP covers the services starting, then the
 * `warmup` stage), so an app without stages goes BOOT → WARMUP → UP.
 */
import type { AppState, Bus } from '../events/index.js';
import type { EchoTarget } from '../logs/types.js';
import type { Plan, StagePlan } from '../manifest/types.js';
import { describeNotReady, hasFailed, isReady, type Stack } from '../supervisor/index.js';
import { type CommandResult, describeResult, OUTPUT_TAIL, runCommand } from './command.js';
import { hasFirstbootMarker, writeFirstbootMarker } from './marker.js';
import { createScheduler, type JobStatus, type Scheduler } from './scheduler.js';

export type StageName = 'boot' | 'firstboot' | 'upgrade' | 'warmup' | 'monitor';

export type StartOutcome =
  | { ok: true }
  /** a stage failed: ERROR is published, the caller stops what started and exits with EXIT.stage */
  | { ok: false; stage: StageName; reason: string }
  /** tend began stopping before the app was UP */
  | { ok: false; stopped: true };

export interface LifecycleOptions {
  plan: Plan;
  bus: Bus;
  stack: Stack;
  /** environment for stages: tend's own plus TEND_SETTINGS_FILE and TEND_DATA_DIR */
  env: NodeJS.ProcessEnv;
  /** where stage output is echoed, `boot | …` */
  echo: EchoTarget;
}

export interface Lifecycle {
  state(): AppState;
  /** runs the stages and starts the services; resolves once UP, failed or interrupted */
  start(): Promise<StartOutcome>;
  /**
   * RESTARTING: stops the long-running services (jobs are left alone), runs `whileDown` (the manifest
   * reload of SIGHUP goes here), starts them again, waits for them, then UP. A restart asked for while one
   * is under way joins it. Ignored unless the app is UP.
   */
  restart(reason: string, opts?: { output?: string; whileDown?: () => Promise<void> }): Promise<void>;
  /** STOPPING (unless in ERROR): interrupts a running stage, the monitor and the job schedules */
  beginStop(reason: string): void;
  /** resolves once no stage or monitor process is left (after beginStop: soon) */
  idle(): Promise<void>;
  /** STOPPED (unless in ERROR), once every service is down */
  stopped(reason?: string): void;
  jobs(): JobStatus[];
  /** picks up jobs added or removed by a reload */
  syncJobs(): void;
  close(): void;
}

/** Short and whole lines: stage output ends up in webhook bodies and `tend status`. */
function trimOutput(text: string): string | undefined {
  const t = text.trim();
  if (t === '') return undefined;
  return t.length > OUTPUT_TAIL ? `…${t.slice(-(OUTPUT_TAIL - 1))}` : t;
}

export function createLifecycle(opts: LifecycleOptions): Lifecycle {
  const { plan, bus, stack } = opts;
  const stages = plan.stages;
  let state: AppState | null = null;
  const stopping = new AbortController();
  let monitorTimer: NodeJS.Timeout | undefined;
  let restarting: Promise<void> | undefined;
  const scheduler: Scheduler = createScheduler({ stack, bus });

  const set = (to: AppState, reason?: string, output?: string) => {
    const from = state;
    state = to;
    bus.publish({
      kind: 'app',
      from,
      to,
      reason,
      output: output === undefined ? undefined : trimOutput(output),
    });
  };

  const inFlight = new Set<Promise<unknown>>();
  const runStage = (name: StageName, stage: StagePlan, echoStdout = true): Promise<CommandResult> => {
    const p = runCommand(stage.command, {
      cwd: plan.dir,
      env: { ...opts.env, TEND_APP: plan.name, TEND_DATA_DIR: plan.dataDir, TEND_STAGE: name },
      timeoutMs: stage.timeoutMs,
      echo: { target: opts.echo, label: name, stdout: echoStdout },
      signal: stopping.signal,
    });
    inFlight.add(p);
    p.finally(() => inFlight.delete(p));
    return p;
  };

  const longRunning = () => stack.names().filter((n) => !stack.runner(n)?.plan.isJob);

  /**
   * Resolves once every long-running service is ready, or some can't get there on their own (failed,
   * exited for good): the lifecycle goes on and says which ones, rather than hanging in WARMUP.
   */
  const servicesSettled = (): Promise<string[]> =>
    new Promise((resolve) => {
      const stuck = () =>
        longRunning().flatMap((n) => {
          const m = stack.runner(n)?.model();
          if (!m || isReady(m)) return [];
          return hasFailed(m) ? [describeNotReady(n, m)] : [];
        });
      const check = () => {
        if (stopping.signal.aborted) return finish([]);
        if (stack.allReady()) return finish([]);
        const bad = stuck();
        const pending = longRunning().filter((n) => {
          const m = stack.runner(n)?.model();
          return !m || !isReady(m);
        });
        if (bad.length > 0 && bad.length === pending.length) finish(bad);
      };
      const onEvent = (e: { kind: string }) => {
        if (e.kind === 'service') queueMicrotask(check);
      };
      const unsubscribe = bus.subscribe(onEvent);
      const onAbort = () => check();
      stopping.signal.addEventListener('abort', onAbort, { once: true });
      let done = false;
      function finish(notReady: string[]) {
        if (done) return;
        done = true;
        unsubscribe();
        stopping.signal.removeEventListener('abort', onAbort);
        resolve(notReady);
      }
      check();
    });

  const upReason = (notReady: string[]) =>
    notReady.length > 0 ? `not ready: ${notReady.join('; ')}` : undefined;

  const stopServices = async (reason: string) => {
    const names = new Set(longRunning());
    const done = new Map<string, Promise<void>>();
    const stopOne = (name: string): Promise<void> => {
      let p = done.get(name);
      if (p) return p;
      const dependants = [...names].filter((n) => stack.runner(n)?.plan.after.includes(name));
      p = Promise.all(dependants.map(stopOne)).then(() => stack.stop(name, reason));
      done.set(name, p);
      return p;
    };
    await Promise.all([...names].reverse().map(stopOne));
  };

  const armMonitor = () => {
    const monitor = stages.monitor;
    if (!monitor || stopping.signal.aborted) return;
    clearTimeout(monitorTimer);
    monitorTimer = setTimeout(() => void runMonitor(), monitor.intervalMs);
  };

  const runMonitor = async () => {
    const monitor = stages.monitor;
    if (!monitor || stopping.signal.aborted) return;
    if (state !== 'UP') return armMonitor();
    // stdout is the stats (whaleware pushstats), not chatter for docker logs; stderr still shows.
    const r = await runStage('monitor', monitor, false);
    if (r.aborted || stopping.signal.aborted) return;
    const text = r.stdout.trim();
    if (text !== '') {
      try {
        bus.publish({ kind: 'stats', stats: JSON.parse(text) });
      } catch {
        // Not JSON: a monitor that only reports by its exit code.
      }
    }
    if (!r.ok)
      await lifecycle.restart(`monitor failed: ${describeResult(r, monitor.timeoutMs)}`, {
        output: r.output,
      });
    armMonitor();
  };

  const lifecycle: Lifecycle = {
    state: () => state ?? 'BOOT',

    async start() {
      const interrupted = { ok: false, stopped: true } as const;
      const fail = (name: StageName, r: CommandResult, timeoutMs: number): StartOutcome => {
        if (r.aborted || stopping.signal.aborted) return interrupted;
        const reason = `${name} failed: ${describeResult(r, timeoutMs)}`;
        set('ERROR', reason, r.output);
        return { ok: false, stage: name, reason };
      };

      set('BOOT');
      if (stages.boot) {
        const r = await runStage('boot', stages.boot);
        if (!r.ok) return fail('boot', r, stages.boot.timeoutMs);
      }
      if (stopping.signal.aborted) return interrupted;

      if (stages.firstboot && !hasFirstbootMarker(plan.dataDir)) {
        set('FIRSTBOOT', `no ${plan.dataDir}/.tend-firstboot yet`);
        const r = await runStage('firstboot', stages.firstboot);
        if (!r.ok) return fail('firstboot', r, stages.firstboot.timeoutMs);
        try {
          await writeFirstbootMarker(plan.dataDir, plan.name);
        } catch (err) {
          const reason = `firstboot succeeded but its marker could not be written in ${plan.dataDir}: ${(err as Error).message}; make the data folder writable`;
          set('ERROR', reason);
          return { ok: false, stage: 'firstboot', reason };
        }
      }
      if (stopping.signal.aborted) return interrupted;

      if (stages.upgrade) {
        set('UPGRADING');
        const r = await runStage('upgrade', stages.upgrade);
        if (!r.ok) return fail('upgrade', r, stages.upgrade.timeoutMs);
      }
      if (stopping.signal.aborted) return interrupted;

      set('WARMUP', 'starting services');
      stack.startAll();
      const notReady = await servicesSettled();
      if (stopping.signal.aborted) return interrupted;
      if (stages.warmup) {
        const r = await runStage('warmup', stages.warmup);
        if (!r.ok) return fail('warmup', r, stages.warmup.timeoutMs);
      }
      if (stopping.signal.aborted) return interrupted;

      set('UP', upReason(notReady));
      scheduler.start();
      armMonitor();
      return { ok: true };
    },

    restart(reason, o = {}) {
      if (restarting) return restarting;
      if (state !== 'UP') return Promise.resolve();
      restarting = (async () => {
        set('RESTARTING', reason, o.output);
        await stopServices(reason);
        if (stopping.signal.aborted) return;
        if (o.whileDown) {
          try {
            await o.whileDown();
          } catch (err) {
            process.stderr.write(`tend: during restart: ${(err as Error).message}\n`);
          }
          scheduler.sync();
        }
        if (stopping.signal.aborted) return;
        stack.startAll();
        const notReady = await servicesSettled();
        if (stopping.signal.aborted) return;
        set('UP', upReason(notReady));
      })().finally(() => {
        restarting = undefined;
      });
      return restarting;
    },

    beginStop(reason) {
      if (!stopping.signal.aborted) {
        clearTimeout(monitorTimer);
        scheduler.stop();
        stopping.abort();
      }
      if (state !== 'ERROR' && state !== 'STOPPING' && state !== 'STOPPED') set('STOPPING', reason);
    },

    async idle() {
      while (inFlight.size > 0) await Promise.all(inFlight);
    },

    stopped(reason) {
      if (state !== 'ERROR' && state !== 'STOPPED') set('STOPPED', reason);
    },

    jobs: () => scheduler.status(),
    syncJobs: () => scheduler.sync(),
    close() {
      clearTimeout(monitorTimer);
      scheduler.close();
    },
  };
  return lifecycle;
}
