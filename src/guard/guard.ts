import {
  anotherTendMessage,
  EXIT,
  type Module,
  type ServiceHooksFactory,
  StartError,
} from '../runtime/index.js';

export { anotherTendMessage };

import type { AppEvent } from '../events/index.js';
import { ensurePrivateDir, PrivateDirError } from '../fsx/index.js';
import type { Plan, ServicePlan } from '../manifest/types.js';
import {
  acquirePidFile,
  becomeSubreaper,
  createPidRecord,
  killLeftovers,
  markerEnv,
  newRunId,
  type PidRecord,
  type Reaper,
  startReaper,
} from '../procs/index.js';
import { openSdNotify, type SdNotifier, SYSTEMD_NOTIFY_VARS, watchdogIntervalMs } from './sd-notify.js';
import { describeStrays, findStrays, type Stray, stopStrays } from './strays.js';

/**
 * The marker label of everything tend runs that is not a service (stages, finish hooks, notify `exec` sinks):
 * never a service name, which must start with a letter or digit.
 */
export const RUN_LABEL = '@tend';

export interface GuardOptions {
  /** tend's environment; default process.env */
  env?: NodeJS.ProcessEnv;
  /** where `tend | …` lines go; default process.stdout */
  out?: NodeJS.WritableStream;
  /** default: `tend: warning: …` on stderr */
  warn?: (text: string) => void;
  /** how often the reaper's backstop scan runs (tests) */
  reaperIntervalMs?: number;
}

export interface Guard {
  readonly runId: string;
  /** tend's environment plus the run's marker, minus systemd's notify variables: give it to startUp */
  readonly env: NodeJS.ProcessEnv;
  /** records every spawn for the next run, and stops a service's escaped daemons with the service */
  readonly serviceHooks: ServiceHooksFactory;
  /** each service's own marker */
  serviceEnv(service: ServicePlan): Record<string, string>;
  /**
   * The guard as a module of the run: its service hooks record every spawn; attached, it sends sd_notify for
   * the app's states; closing it sweeps the run's strays and releases the state folder
   */
  readonly module: Module;
  /** what closing the module does, for when startUp failed before attaching it. Idempotent. */
  release(): Promise<void>;
}

let reaper: Reaper | undefined;

/**
 * Makes this process a child subreaper and starts reaping orphans, once per process. Must run before the
 * first spawn of the run: the reaper tracks every child Node spawns from then on and never reaps those.
 */
export function startReaping(warn: (text: string) => void, intervalMs?: number): void {
  if (reaper) return;
  const pid1 = process.pid === 1;
  if (!pid1) {
    const sub = becomeSubreaper();
    if (!sub.ok) {
      warn(
        `${sub.warning}; orphans of services go to the machine's init instead, and a daemon that escapes its ` +
          'process group survives tend if tend is killed',
      );
    }
  }
  reaper = startReaper({ intervalMs });
  if (reaper.warning) {
    warn(
      pid1
        ? `${reaper.warning}: as PID 1, tend leaves orphaned processes as zombies; run the container with --init or install koffi`
        : reaper.warning,
    );
  }
}

/** How long SIGTERM gets before SIGKILL when tend stops processes on its own account. */
function graceMs(plan: Plan): number {
  const timeouts = Object.values(plan.services).map((s) => s.stop.timeoutMs);
  return timeouts.length > 0 ? Math.max(...timeouts) : 10_000;
}

/**
 * Everything `tend up` owes the machine it runs on, around the stack: PID 1 and subreaper duties, the pid
 * file, stopping what a SIGKILLed previous run left, the record of this run's processes, the escaped daemons
 * of each service on stop and of the whole run at the end, and systemd's notify protocol.
 *
 * Call before startUp (it claims the state folder before anything writes there) and pass `env`,
 * `serviceEnv` and `module` (first) to it. Throws StartError (exit 1) when another tend
 * holds the state folder.
 */
export async function startGuard(plan: Plan, opts: GuardOptions = {}): Promise<Guard> {
  const env = opts.env ?? process.env;
  const out = opts.out ?? process.stdout;
  const say = (text: string) => out.write(`tend | ${text}\n`);
  const warn = opts.warn ?? ((text: string) => process.stderr.write(`tend: warning: ${text}\n`));
  startReaping(warn, opts.reaperIntervalMs);

  // Nothing in the state folder is trusted (the pid record names processes to kill) unless only tend's user
  // controls the folder.
  try {
    ensurePrivateDir(plan.stateDir);
  } catch (err) {
    if (err instanceof PrivateDirError) throw new StartError(err.message, EXIT.usage);
    throw new StartError(
      `cannot create the state folder ${plan.stateDir}: ${(err as Error).message}; make it writable or set another state_dir`,
      EXIT.internal,
    );
  }
  let claim: ReturnType<typeof acquirePidFile>;
  try {
    claim = acquirePidFile(plan.stateDir);
  } catch (err) {
    throw new StartError(
      `cannot claim the state folder ${plan.stateDir}: ${(err as Error).message}; make it writable or set another state_dir`,
      EXIT.internal,
    );
  }
  if (!claim.ok) throw new StartError(anotherTendMessage(claim.pid, plan.stateDir), EXIT.internal);
  if (claim.warning) warn(claim.warning);
  const pidFile = claim;

  const grace = graceMs(plan);
  const leftovers = await killLeftovers(plan.stateDir, { timeoutMs: grace, log: say });
  const stopped = leftovers.filter((o) => o.outcome !== 'gone');
  if (stopped.length > 0) {
    say(
      `stopped ${stopped.length} process(es) a previous tend left running: ` +
        stopped
          .map((o) => `${o.service} (pid ${o.pid}${o.outcome === 'killed' ? ', SIGKILL' : ''})`)
          .join(', '),
    );
  }

  const runId = newRunId();
  const record: PidRecord = createPidRecord(plan.stateDir, runId, {
    onError: (err) => warn(`cannot record started processes: ${err.message}; a crash of tend may leave them`),
  });
  // Before the first stage or service: from here on, a SIGKILLed tend leaves a record with this run's id, and
  // the next run stops every process carrying its marker, even one spawned a moment before the kill.
  await record.flush();
  let firstSpawn = true;

  const childEnv: NodeJS.ProcessEnv = { ...env, ...markerEnv(runId, RUN_LABEL) };
  for (const name of SYSTEMD_NOTIFY_VARS) delete childEnv[name];

  const sweeps = new Set<Promise<void>>();
  const track = (p: Promise<void>) => {
    sweeps.add(p);
    void p.finally(() => sweeps.delete(p));
  };

  interface SweepRequest {
    group?: number;
    signal: NodeJS.Signals;
    timeoutMs: number;
    note: (text: string) => void;
  }
  const pending = new Map<string, SweepRequest>();
  let sweepQueued = false;
  // Services entering `stopping` together (a whole-stack stop) share one scan of /proc.
  const sweepServices = () => {
    sweepQueued = false;
    const batch = [...pending];
    pending.clear();
    let all: Stray[];
    try {
      all = findStrays({ runId });
    } catch (err) {
      warn(`cannot look for escaped processes: ${(err as Error).message}`);
      return;
    }
    for (const [service, req] of batch) {
      const mine = all.filter((s) => s.service === service && s.pgid !== req.group);
      if (mine.length === 0) continue;
      // The service's log, echoed as `service | …` with logs.stdout: next to the lines of its own stop.
      req.note(
        `stopping ${mine.length} process(es) that left the process group of ${service}: ${describeStrays(mine)}`,
      );
      track(
        stopStrays(mine, req.signal, req.timeoutMs).then(({ killed, survivors }) => {
          if (killed.length > 0) req.note(`SIGKILL to ${describeStrays(killed)} after ${req.timeoutMs} ms`);
          for (const s of survivors) warn(`process ${s.pid} (${s.comm}) of ${service} survived SIGKILL`);
        }),
      );
    }
  };

  const serviceHooks: ServiceHooksFactory = (sp, log) => ({
    onSpawn(child) {
      if (child.pid === undefined) return;
      record.add({ pid: child.pid, service: sp.name });
      // From the first write on, the run's marker finds everything this run starts, recorded or not.
      if (firstSpawn) {
        firstSpawn = false;
        void record.flush();
      }
    },
    onState(next, previous) {
      if (previous.pid !== undefined && next.pid !== previous.pid) record.remove(previous.pid);
      if (next.state === 'stopping' && previous.state !== 'stopping') {
        pending.set(sp.name, {
          group: next.pid ?? previous.pid,
          signal: sp.stop.signal,
          timeoutMs: sp.stop.timeoutMs,
          note: (text) => log.note(text),
        });
        if (!sweepQueued) {
          sweepQueued = true;
          setImmediate(sweepServices);
        }
      }
    },
  });

  let notifier: SdNotifier | undefined;
  let unsubscribe: (() => void) | undefined;
  let watchdog: NodeJS.Timeout | undefined;

  let released: Promise<void> | undefined;
  const release = () => {
    released ??= (async () => {
      unsubscribe?.();
      if (watchdog) clearInterval(watchdog);
      await Promise.allSettled([...sweeps]);
      // Whatever escaped and was not stopped with its service: daemons started by stages, or by a service
      // whose leader had already exited when it was stopped.
      const strays = findStrays({ runId, spareNodeChildren: true });
      if (strays.length > 0) {
        say(
          `stopping ${strays.length} process(es) that escaped their process group: ${describeStrays(strays)}`,
        );
        const { survivors } = await stopStrays(strays, 'SIGTERM', grace);
        for (const s of survivors) warn(`process ${s.pid} (${s.comm}) survived SIGKILL`);
      }
      await record.clear();
      pidFile.release();
      notifier?.close();
    })();
    return released;
  };

  const attach: Module['attach'] = async (rt) => {
    notifier = openSdNotify(env.NOTIFY_SOCKET, warn);
    if (notifier) {
      const n = notifier;
      unsubscribe = rt.bus.subscribe((e) => {
        if (e.kind === 'app') n.send(sdMessage(e));
      });
      const every = watchdogIntervalMs(env);
      if (every !== undefined) {
        watchdog = setInterval(() => n.send('WATCHDOG=1'), every);
        watchdog.unref();
      }
    }
    return { close: release };
  };

  return {
    runId,
    env: childEnv,
    serviceHooks,
    serviceEnv: (sp) => markerEnv(runId, sp.name),
    module: { name: 'guard', serviceHooks, attach },
    release,
  };
}

/**
 * What systemd hears of an app state (sd_notify(3)): READY=1 once UP (again after a restart), RELOADING=1
 * while RESTARTING, STOPPING=1 when the stop begins, and the state as STATUS= for `systemctl status`.
 */
export function sdMessage(e: Pick<AppEvent, 'to' | 'reason'>): string {
  const status = `STATUS=${e.to}${e.reason ? `: ${e.reason}` : ''}`.replace(/\n/g, ' ');
  switch (e.to) {
    case 'UP':
      return `READY=1\n${status}`;
    case 'RESTARTING':
      return `RELOADING=1\nMONOTONIC_USEC=${process.hrtime.bigint() / 1000n}\n${status}`;
    case 'STOPPING':
      return `STOPPING=1\n${status}`;
    default:
      return status;
  }
}
