/**
 * `tend up`: the composition root. Given a Plan it loads the settings, builds the event bus, the KV store, the
 * notify sinks, the stack, the app lifecycle, the metrics, the control state and (on first use) discovery,
 * puts them on one Runtime, and attaches the modules (`src/runtime`'s `Module`: control plane, live view,
 * render loop, probes, discovery, guard) to it. It owns the process-level concerns: signals and the exit code.
 * Modules never import each other; this file and `run.ts` are the only place that knows them all.
 *
 * Start: settings (a bad value refuses to start, exit 2) → modules attached in order → lifecycle (stages,
 * services, warmup, UP). Stop: STOPPING → services down → finish hooks drained → STOPPED → modules closed in
 * reverse order → discovery closed → notify sinks flushed, so the last events still reach webhooks and the
 * `lifecycle` script.
 */
import type { OpenRegistryOptions } from '../discovery/index.js';
import { createBus, createConsoleLines, type TendEvent } from '../events/index.js';
import { ensurePrivateDir, makeDirSync, PrivateDirError } from '../fsx/index.js';
import { type KvBackend, KvError, openKv } from '../kv/index.js';
import { createFinishHooks, createLifecycle, prepareSettings } from '../lifecycle/index.js';
import { createEcho, type Echo } from '../logs/index.js';
import { formatDuration } from '../manifest/index.js';
import type { Plan, ServicePlan } from '../manifest/types.js';
import { createMetrics } from '../metrics/index.js';
import type { KvPut, Notifier } from '../notify/index.js';
import { catchRealtimeSignals, realtimeName, SocketError } from '../procs/index.js';
import {
  type Attached,
  type Discovery,
  EXIT,
  type Module,
  ReloadError,
  type RenderStatus,
  type RolloutChange,
  type RolloutOutcome,
  type RolloutStatus,
  type Runtime,
  type ServiceHooksFactory,
  StartError,
} from '../runtime/index.js';
import { SettingsError } from '../settings/index.js';
import { createStack, type ServiceHooks, userRefusal } from '../supervisor/index.js';
import { settleWithin } from '../time/index.js';
import { reload } from './reload.js';
import { createControlState } from './state.js';

export interface UpOptions {
  plan: Plan;
  env?: NodeJS.ProcessEnv;
  /**
   * print one line per state change on stdout (tend's own voice in `docker logs`); default: on, unless the
   * manifest has a `stdout` notify sink, which prints them instead
   */
  printEvents?: boolean;
  out?: NodeJS.WritableStream;
  /** where notify sinks report delivery problems; default process.stderr */
  err?: NodeJS.WritableStream;
  /**
   * The modules of this run, in order: their per-service hooks are merged in this order (after them, the
   * lifecycle's finish hooks), they attach in this order before the services start and close in reverse.
   */
  modules?: Module[];
  /** writes a KV key for `kv` notify sinks; default: a put into `kv` */
  kvPut?: KvPut;
  /** the KV store (tests inject one); default: `openKv(plan.kv)`, which does no I/O until first used */
  kv?: KvBackend;
  /** env of one service that its `env` and env_from cannot override (src/guard's marker) */
  serviceEnv?: (service: ServicePlan) => Record<string, string>;
  /** the render module's status, for `rt.renderStatus()` */
  renderStatus?: () => RenderStatus | undefined;
  /** the fleet's rollout of a change, for `rt.rollout` (src/app/run.ts wires the fleet module's) */
  rollout?: (change: RolloutChange) => Promise<RolloutOutcome>;
  /** the rollouts' status, for `rt.rolloutStatus()` */
  rolloutStatus?: () => RolloutStatus[];
  /**
   * Modules a reloaded manifest needs that this run has not attached yet (`tend up` attaches only those its
   * manifest uses): attached, their service hooks in effect, before the reload adds or replaces services.
   */
  modulesFor?: (next: Plan) => Promise<Module[]>;
  /**
   * Opens the run's registry at the first `rt.discovery()`. Default: src/discovery's, whose code loads before
   * the modules attach; `tend up` passes its own, loaded only with a module that can reach it.
   */
  openDiscovery?: (o: OpenRegistryOptions) => Discovery;
}

export interface Running extends Runtime {
  /** resolves with tend's exit code once everything has stopped */
  done: Promise<number>;
}

/** How long a stop waits for finish hooks still running (each also has its own timeout). */
const FINISH_DRAIN_MS = 5000;
/** How long a stop waits for notify sinks to deliver the last events (STOPPED, …). */
const NOTIFY_FLUSH_MS = 3000;
/** How long a stop waits for discovery's last withdrawals and for the registry to close. */
const CLOSE_WAIT_MS = 3000;

export async function startUp(opts: UpOptions): Promise<Running> {
  const { plan } = opts;
  const env = opts.env ?? process.env;
  const out = opts.out ?? process.stdout;
  const refusal = userRefusal(Object.values(plan.services));
  if (refusal) throw new StartError(`${refusal}; nothing was started`, EXIT.usage);
  try {
    ensurePrivateDir(plan.stateDir);
  } catch (e) {
    if (e instanceof PrivateDirError) throw new StartError(e.message, EXIT.usage);
    throw e;
  }
  makeDirSync(plan.dataDir);
  const bus = createBus();
  let kv: KvBackend;
  try {
    kv = opts.kv ?? openKv(plan.kv, { env, baseDir: plan.dir });
  } catch (e) {
    if (!(e instanceof KvError)) throw e;
    throw new StartError(
      `${e.message}\n  fix the KV store URL (kv:, --kv or $TEND_KV); nothing was started`,
      EXIT.usage,
    );
  }

  let settings: Awaited<ReturnType<typeof prepareSettings>>;
  try {
    settings = await prepareSettings(plan, env, bus);
  } catch (e) {
    if (e instanceof SettingsError) {
      throw new StartError(
        `${e.message}\n  fix the value where it comes from, then start again; nothing was started`,
        EXIT.usage,
      );
    }
    throw e;
  }
  const extraEnv: Record<string, string> = { TEND_DATA_DIR: plan.dataDir };
  if (settings.file) extraEnv.TEND_SETTINGS_FILE = settings.file;
  const childEnv: NodeJS.ProcessEnv = { ...env, ...extraEnv };

  // Service and stage output reaches stdout through the echo, batched per turn of the event loop; tend's event
  // lines flush it first so that the two keep the order in which things happened.
  // prefixes padded to the longest name that can print (services, stages, tend) from the first line on, and
  // each service in its start-order colour, as the dashboard's log view shows it
  const echo = createEcho(out, {
    names: [...plan.order, ...Object.keys(plan.stages)],
  });
  // the `tend | …` lines modules write straight to stdout line up with the echo's too
  echo.adoptTendLines();
  // no sinks, no notify code: most manifests have none, and a reload does not change them
  const notifier: Notifier =
    plan.notify.length === 0
      ? { stats: () => [], close: async () => {} }
      : (await import('../notify/index.js')).createNotifier(plan.notify, {
          bus,
          app: plan.name,
          kvPut: opts.kvPut ?? ((key, value) => kv.put(key, value)),
          stdout: out,
          beforeStdout: () => echo.flush(),
          stdoutLine: (text) => echo.tendLine(text),
          stderr: opts.err,
          cwd: plan.dir,
          env: { ...childEnv, TEND_APP: plan.name },
        });
  const printEvents = opts.printEvents ?? !plan.notify.some((n) => n.kind === 'stdout');
  if (printEvents) {
    const consoleLine = createConsoleLines();
    bus.subscribe((e) => printEvent(echo, consoleLine, e));
  }
  const finish = createFinishHooks({ bus, app: plan.name, envOf: (name) => stack.envOf(name) });
  const modules = [...(opts.modules ?? [])];
  // read at each service's creation: a module attached by a reload hooks into the services it adds
  let factories: ServiceHooksFactory[] = [];
  const hookUp = () => {
    factories = [
      ...modules.flatMap((m) => (m.serviceHooks ? [m.serviceHooks] : [])),
      (sp, log) => finish.hooksFor(sp, log),
    ];
  };
  hookUp();
  const openDiscovery = opts.openDiscovery ?? (await loadDiscovery());
  let stack: ReturnType<typeof createStack>;
  try {
    stack = createStack({
      plan,
      bus,
      echo,
      env,
      extraEnv,
      hooks: (sp, log) => mergeHooks(factories.map((f) => f(sp, log))),
      serviceEnv: opts.serviceEnv,
    });
  } catch (e) {
    if (!(e instanceof SocketError)) throw e;
    await notifier.close(0);
    throw new StartError(`${e.message}\n  nothing was started`, EXIT.usage);
  }
  let lifecycle: ReturnType<typeof createLifecycle>;
  try {
    lifecycle = createLifecycle({ plan, bus, stack, env: childEnv, echo });
  } catch (e) {
    await notifier.close(0);
    throw new StartError((e as Error).message, EXIT.usage);
  }

  let finished: Promise<number> | undefined;
  let resolveDone!: (code: number) => void;
  const done = new Promise<number>((r) => {
    resolveDone = r;
  });
  const closers: Array<{ name: string; close: () => Promise<void> }> = [];
  const hangupHandlers = new Set<() => Promise<void> | void>();
  const warn = (text: string) => process.stderr.write(`tend: ${text}\n`);
  const control = createControlState(plan, bus);
  let discovery: Discovery | undefined;
  const metrics = createMetrics({
    app: plan.name,
    appState: () => lifecycle.state(),
    services: () => stack.status(),
    logStats: (name) => stack.log(name)?.stats(),
    maintenance: () => control.maintenance(),
    // a sink's name may carry a URL or a command line: label it by position and kind only
    notifyDropped: () =>
      notifier
        .stats()
        .map((s, i) => ({ consumer: `notify:${i}:${s.sink.split(' ')[0]}`, dropped: s.dropped })),
    notifySinks: () => notifier.stats(),
  });

  const shutdown = (code: number, reason: string) => {
    if (finished) return finished;
    finished = (async () => {
      lifecycle.beginStop(reason);
      await Promise.all([stack.stopAll(reason), lifecycle.idle()]);
      await finish.drain(FINISH_DRAIN_MS);
      lifecycle.stopped();
      for (const m of closers.reverse()) {
        try {
          await m.close();
        } catch (err) {
          warn(`while stopping ${m.name}: ${(err as Error).message}`);
        }
      }
      // the services are down and withdrawn by now; an unreachable registry must not hold tend's exit
      if (discovery) await settleWithin(discovery.close(), CLOSE_WAIT_MS);
      control.close();
      lifecycle.close();
      await stack.close();
      await notifier.close(NOTIFY_FLUSH_MS);
      await kv.close().catch(() => {});
      resolveDone(code);
      return code;
    })();
    return finished;
  };

  const rt: Runtime = {
    plan,
    bus,
    kv,
    stack,
    env,
    out,
    shutdown,
    appState: () => lifecycle.state(),
    settings: () => settings.value(),
    settingsFile: settings.file,
    updateSettings: (kv) => settings.update(kv),
    hangup(reason = 'received SIGHUP') {
      if (lifecycle.state() !== 'UP') {
        out.write(`tend | ${reason}: ignored while the app is ${lifecycle.state()}\n`);
        return Promise.resolve();
      }
      return lifecycle.restart(reason, {
        async whileDown() {
          for (const h of hangupHandlers) await h();
        },
      });
    },
    onHangup(handler) {
      hangupHandlers.add(handler);
      return () => hangupHandlers.delete(handler);
    },
    syncJobs: () => lifecycle.syncJobs(),
    notifyStats: () => notifier.stats(),
    metrics,
    control,
    discovery() {
      discovery ??= openDiscovery({ kvUrl: plan.kv, kv, baseDir: plan.dir, env });
      return discovery;
    },
    envOf: (service) => stack.envOf(service) ?? {},
    reload: (o) => reload(rt, o, attachFor),
    renderStatus: () => opts.renderStatus?.(),
    rollout: opts.rollout,
    rolloutStatus: () => opts.rolloutStatus?.() ?? [],
    // read on demand (the dashboard's fleet page): loaded lazily, as `tend run` never shows it
    fleet: async (o) => (await import('../fleet/index.js')).fleetReading(rt, o),
  };
  // SIGHUP re-reads the manifest while the services are down (before the modules' own hangup work, such as
  // the render loop re-reading its templates); `tend run` has none to re-read
  if (plan.file) {
    hangupHandlers.add(async () => {
      try {
        await rt.reload({ start: false });
      } catch (err) {
        // an invalid manifest was reported by reload()
        if (!(err instanceof ReloadError)) throw err;
      }
    });
  }
  const attach = async (m: Module) => {
    const handle: Attached | undefined = await m.attach?.(rt);
    if (handle) closers.push({ name: m.name, close: () => handle.close() });
  };
  // a reloaded manifest that starts using templates, probes or discovery: those modules join the run
  const attachFor = async (next: Plan) => {
    for (const m of (await opts.modulesFor?.(next)) ?? []) {
      await attach(m);
      modules.push(m);
    }
    hookUp();
  };
  try {
    for (const m of [...modules]) await attach(m);
  } catch (e) {
    for (const m of closers.reverse()) await m.close().catch(() => {});
    if (discovery) await settleWithin(discovery.close(), CLOSE_WAIT_MS);
    control.close();
    lifecycle.close();
    await stack.close();
    await notifier.close(0);
    await kv.close().catch(() => {});
    throw e;
  }

  stack.ended.then((end) => shutdown(end.code, end.reason));
  lifecycle.start().then(
    (outcome) => {
      if (!outcome.ok && 'stage' in outcome) void shutdown(EXIT.stage, outcome.reason);
    },
    (err: Error) => {
      warn(`lifecycle: ${err.stack ?? err.message}`);
      void shutdown(EXIT.internal, `internal error: ${err.message}`);
    },
  );
  return { ...rt, done };
}

/** src/discovery's registry opener, for runs that did not bring their own (tests that attach modules directly). */
async function loadDiscovery(): Promise<(o: OpenRegistryOptions) => Discovery> {
  const d = await import('../discovery/index.js');
  return (o) => d.createDiscovery(d.openRegistry(o));
}

/**
 * Several modules' hooks as one: each hook calls every module's, in order. A hook that returns promises
 * (`beforeStop`) returns one promise for all of them, so the runner waits for every module.
 */
export function mergeHooks(list: ServiceHooks[]): ServiceHooks {
  const merged: ServiceHooks = {};
  const keys = new Set(list.flatMap((h) => Object.keys(h) as Array<keyof ServiceHooks>));
  for (const key of keys) {
    const fns = list.map((h) => h[key]).filter((f) => f !== undefined) as Array<(...a: unknown[]) => unknown>;
    (merged as Record<string, unknown>)[key] = (...args: unknown[]) => {
      const pending: Promise<unknown>[] = [];
      for (const f of fns) {
        const r = f(...args);
        if (r instanceof Promise) pending.push(r);
      }
      return pending.length === 0 ? undefined : Promise.allSettled(pending).then(() => undefined);
    };
  }
  return merged;
}

/**
 * Signals with a meaning: TERM, INT and QUIT stop the stack (QUIT as TERM: a supervisor that dumped core and
 * left its services unsupervised would help nobody), HUP restarts the app, USR1 reopens the log files
 * (logrotate's convention) and, like USR2, is passed on to the services that ask for it.
 */
export const HANDLED_SIGNALS: NodeJS.Signals[] = [
  'SIGTERM',
  'SIGINT',
  'SIGQUIT',
  'SIGHUP',
  'SIGUSR1',
  'SIGUSR2',
];

/**
 * Signals whose default action would kill tend (and orphan its services) but that mean nothing to it: caught
 * and ignored, each noted once on stderr. Children still start with every disposition at its default.
 */
export const IGNORED_SIGNALS: NodeJS.Signals[] = [
  'SIGALRM',
  'SIGVTALRM',
  'SIGPROF',
  'SIGPWR',
  'SIGXCPU',
  'SIGXFSZ',
  'SIGSYS',
  'SIGTRAP',
  'SIGSTKFLT',
  'SIGIO',
];

/**
 * Real-time signals with a meaning, as offsets from SIGRTMIN: +3 and +4 are systemd's halt and poweroff (what
 * `machinectl poweroff` sends a container's init, and the STOPSIGNAL of systemd-style images), so they stop
 * the stack like TERM. Every other real-time signal is caught and ignored, noted once on stderr.
 */
export const REALTIME_STOP_OFFSETS: readonly number[] = [3, 4];

/**
 * What a signal to tend means: stop (TERM, INT, QUIT; a second INT while stopping forces it), restart the app
 * (HUP), reopen the logs (USR1), or pass it on to services that asked.
 */
export function actOnSignal(running: Running, sig: NodeJS.Signals, stopping = false): void {
  if (sig === 'SIGINT' && stopping) {
    forceStop(running);
    return;
  }
  if (sig === 'SIGTERM' || sig === 'SIGINT' || sig === 'SIGQUIT') {
    // as docker compose: the first Ctrl-C stops in order and says how to cut it short
    if (sig === 'SIGINT') {
      const longest = Math.max(0, ...Object.values(running.plan.services).map((s) => s.stop.timeoutMs));
      running.out.write(
        `tend | stopping; services that do not stop get SIGKILL within ${formatDuration(longest)} — Ctrl-C again to force
`,
      );
    }
    void running.shutdown(EXIT.ok, `received ${sig}`);
    return;
  }
  if (sig === 'SIGHUP') {
    void running.hangup('received SIGHUP');
    return;
  }
  if (sig === 'SIGUSR1') for (const name of running.stack.names()) running.stack.log(name)?.reopen();
  for (const name of running.stack.names()) {
    const r = running.stack.runner(name);
    if (r?.plan.forwardSignals.includes(sig)) r.signal(sig);
  }
}

/** A second Ctrl-C: SIGKILL to every process group still running; the stop goes on from there. */
function forceStop(running: Running): void {
  const killed = running.stack.names().filter((n) => {
    const r = running.stack.runner(n);
    return r?.hasProcess() ? r.signal('SIGKILL') : false;
  });
  running.out.write(`tend | forcing the stop: SIGKILL to ${killed.join(', ') || 'nothing left'}\n`);
}

/**
 * Installs tend's signal handling before anything starts, and returns `bind`: signals that arrive before the
 * runtime exists are held and acted on once it is bound. One listener for the whole run, because removing a
 * listener drops a signal libuv has caught but not yet dispatched (and with no listener, SIGTERM would kill
 * tend outright and orphan its services).
 */
export function handleSignals(): { bind(running: Running): void; remove(): void } {
  let target: Running | undefined;
  const held: [NodeJS.Signals, string][] = [];
  let stopping = false;
  // a real-time stop (SIGRTMIN+3) is held as itself and acted on as TERM, with its own name in the reason
  const act = (sig: NodeJS.Signals, name: string) => {
    if (!target) return void held.push([sig, name]);
    if (name !== sig && !stopping) void target.shutdown(EXIT.ok, `received ${name}`);
    else actOnSignal(target, sig, stopping);
    if (sig === 'SIGINT' || sig === 'SIGTERM' || sig === 'SIGQUIT') stopping = true;
  };
  // Node calls a signal listener with (name, number): the number must not reach `act` as a name
  const listener = (sig: NodeJS.Signals) => act(sig, sig);
  const noted = new Set<string>();
  const ignore = (sig: string) => {
    if (noted.has(sig)) return;
    noted.add(sig);
    process.stderr.write(
      `tend: received ${sig}; ignored (only TERM, INT, QUIT, SIGRTMIN+3 and +4 stop tend)\n`,
    );
  };
  const realtime = catchRealtimeSignals((signum, offset) => {
    const name = realtimeName(signum, signum - offset);
    if (REALTIME_STOP_OFFSETS.includes(offset)) act('SIGTERM', name);
    else ignore(name);
  });
  if ('error' in realtime) process.stderr.write(`tend: ${realtime.error}; one sent to tend ends it\n`);
  // V8's CPU profiler (--cpu-prof, --prof) runs on SIGPROF: a handler of tend's would take its ticks, and
  // removing it at the end would leave the default action, which kills tend mid-profile
  const profiling = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)].some(
    (a) => a.startsWith('--cpu-prof') || a === '--prof',
  );
  const ignored = IGNORED_SIGNALS.filter((s) => !(profiling && s === 'SIGPROF'));
  for (const s of HANDLED_SIGNALS) process.on(s, listener);
  for (const s of ignored) process.on(s, ignore);
  return {
    bind(running) {
      target = running;
      for (const [s, name] of held.splice(0)) act(s, name);
    },
    remove() {
      if (!('error' in realtime)) realtime.close();
      for (const s of HANDLED_SIGNALS) process.off(s, listener);
      for (const s of ignored) process.off(s, ignore);
    },
  };
}

/** tend's own line about an event, through the echo: after what the services printed before it, aligned. */
function printEvent(echo: Echo, consoleLine: (e: TendEvent) => string | undefined, e: TendEvent) {
  const text = consoleLine(e);
  if (text) echo.tend(text);
}
