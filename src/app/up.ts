/**
 * `tend up`: the composition root. It loads nothing itself: given a Plan it loads the settings, builds the
 * event bus, the notify sinks, the stack and the app lifecycle, attaches the optional modules (control
 * plane, …) to one Runtime context, and owns the process-level concerns: signals and the exit code.
 * Modules never import each other through here.
 *
 * Start: settings (a bad value refuses to start, exit 2) → attachments → lifecycle (stages, services,
 * warmup, UP). Stop: STOPPING → services down → finish hooks drained → STOPPED → attachments closed →
 * notify sinks flushed, so the last events still reach webhooks and the `lifecycle` script.
 */
import { type AppState, type Bus, createBus, type TendEvent } from '../events/index.js';
import { makeDirSync } from '../fsx/index.js';
import { type KvBackend, openKv } from '../kv/index.js';
import {
  createFinishHooks,
  createLifecycle,
  type JobStatus,
  type KvPairs,
  prepareSettings,
} from '../lifecycle/index.js';
import type { ServiceLog } from '../logs/index.js';
import { createEcho } from '../logs/index.js';
import type { Plan, ServicePlan } from '../manifest/types.js';
import { createNotifier, type KvPut, type SinkStats } from '../notify/index.js';
import { SettingsError } from '../settings/index.js';
import { createStack, type ServiceHooks, type Stack } from '../supervisor/index.js';

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
  /** modules to attach, in order; each is closed in reverse order at shutdown */
  attach?: Attachment[];
  /** writes a KV key for `kv` notify sinks; default: a put into `kv` */
  kvPut?: KvPut;
  /** the KV store (tests inject one); default: `openKv(plan.kv)`, which does no I/O until first used */
  kv?: KvBackend;
  /**
   * per-service hooks of other modules (readiness and health probes, pid records), merged with the
   * lifecycle's finish hooks; the stack is built before attachments run, so they plug in here
   */
  serviceHooks?: ServiceHooksFactory[];
  /** env of one service that its `env` and env_from cannot override (src/guard's marker) */
  serviceEnv?: (service: ServicePlan) => Record<string, string>;
}

export type ServiceHooksFactory = (service: ServicePlan, log: ServiceLog) => ServiceHooks;

/** What an attached module sees: everything it may read or drive. */
export interface Runtime {
  plan: Plan;
  bus: Bus;
  /** the one KV store of this run: render loop, env_from, settings overlay, discovery and kv sinks share it */
  kv: KvBackend;
  stack: Stack;
  env: NodeJS.ProcessEnv;
  out: NodeJS.WritableStream;
  /** stops the stack and ends tend with `code` */
  shutdown(code: number, reason: string): Promise<number>;
  /** the app lifecycle state (BOOT … UP … STOPPED) */
  appState(): AppState;
  /** the effective settings (whaleware CFG): defaults ← files ← $CFG ← KV overlay, validated */
  settings(): Record<string, unknown>;
  /** `<state_dir>/settings.json`, given to every service and stage as TEND_SETTINGS_FILE; none for `tend run` */
  settingsFile?: string;
  /**
   * Re-computes the settings with a new KV overlay (pairs relative to `settings.kv_prefix`), rewrites the
   * file and publishes a `config` event when the value changed. Throws SettingsError, keeping the last value.
   */
  updateSettings(kv: KvPairs): Promise<boolean>;
  /** whaleware RESTARTING: restarts the long-running services (not jobs), then UP; no-op unless UP */
  restartApp(reason: string): Promise<void>;
  /** what SIGHUP does: RESTARTING, running the `onHangup` handlers while the services are down */
  hangup(reason?: string): Promise<void>;
  /** work for SIGHUP while the services are down (the manifest reload); returns the unregister function */
  onHangup(handler: () => Promise<void> | void): () => void;
  /** scheduled jobs: runs, skips, next run */
  jobs(): JobStatus[];
  /** picks up jobs added, removed or re-scheduled after the stack changed (reload) */
  syncJobs(): void;
  /** per notify sink: sent, failed, dropped, queued */
  notifyStats(): SinkStats[];
}

/** A module plugged into `tend up`: started before the services, closed after they stopped. */
export type Attachment = (rt: Runtime) => Promise<{ close(): Promise<void> } | undefined>;

export interface Running extends Runtime {
  /** resolves with tend's exit code once everything has stopped */
  done: Promise<number>;
}

export const EXIT = { ok: 0, internal: 1, usage: 2, incomplete: 3, stage: 4 } as const;

export class StartError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

/** How long a stop waits for finish hooks still running (each also has its own timeout). */
const FINISH_DRAIN_MS = 5000;
/** How long a stop waits for notify sinks to deliver the last events (STOPPED, …). */
const NOTIFY_FLUSH_MS = 3000;

export async function startUp(opts: UpOptions): Promise<Running> {
  const { plan } = opts;
  const env = opts.env ?? process.env;
  const out = opts.out ?? process.stdout;
  makeDirSync(plan.stateDir);
  makeDirSync(plan.dataDir);
  const bus = createBus();
  const kv = opts.kv ?? openKv(plan.kv, { env, baseDir: plan.dir });

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
  const echo = createEcho(out);
  const notifier = createNotifier(plan.notify, {
    bus,
    app: plan.name,
    kvPut: opts.kvPut ?? ((key, value) => kv.put(key, value)),
    stdout: out,
    beforeStdout: () => echo.flush(),
    stderr: opts.err,
    cwd: plan.dir,
    env: { ...childEnv, TEND_APP: plan.name },
  });
  const printEvents = opts.printEvents ?? !plan.notify.some((n) => n.kind === 'stdout');
  if (printEvents)
    bus.subscribe((e) => {
      echo.flush();
      printEvent(out, e);
    });
  const finish = createFinishHooks({
    bus,
    app: plan.name,
    env: childEnv,
    envOf: (name) => stack.envOf(name),
  });
  const factories: ServiceHooksFactory[] = [
    ...(opts.serviceHooks ?? []),
    (sp, log) => finish.hooksFor(sp, log),
  ];
  const stack = createStack({
    plan,
    bus,
    echo,
    env,
    extraEnv,
    hooks: (sp, log) => mergeHooks(factories.map((f) => f(sp, log))),
    serviceEnv: opts.serviceEnv,
  });
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
  const closers: Array<() => Promise<void>> = [];
  const hangupHandlers = new Set<() => Promise<void> | void>();
  const warn = (text: string) => process.stderr.write(`tend: ${text}\n`);

  const shutdown = (code: number, reason: string) => {
    if (finished) return finished;
    finished = (async () => {
      lifecycle.beginStop(reason);
      await Promise.all([stack.stopAll(reason), lifecycle.idle()]);
      await finish.drain(FINISH_DRAIN_MS);
      lifecycle.stopped();
      for (const close of closers.reverse()) {
        try {
          await close();
        } catch (err) {
          warn(`while stopping: ${(err as Error).message}`);
        }
      }
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
    restartApp: (reason) => lifecycle.restart(reason),
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
    jobs: () => lifecycle.jobs(),
    syncJobs: () => lifecycle.syncJobs(),
    notifyStats: () => notifier.stats(),
  };
  try {
    for (const attach of opts.attach ?? []) {
      const handle = await attach(rt);
      if (handle) closers.push(() => handle.close());
    }
  } catch (e) {
    for (const close of closers.reverse()) await close().catch(() => {});
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

export const HANDLED_SIGNALS: NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGUSR1', 'SIGUSR2'];

/** What a signal to tend means: stop, restart the app (SIGHUP), or pass it on to services that asked. */
export function actOnSignal(running: Running, sig: NodeJS.Signals): void {
  if (sig === 'SIGTERM' || sig === 'SIGINT') void running.shutdown(EXIT.ok, `received ${sig}`);
  else if (sig === 'SIGHUP') void running.hangup('received SIGHUP');
  else {
    for (const name of running.stack.names()) {
      const r = running.stack.runner(name);
      if (r?.plan.forwardSignals.includes(sig)) r.signal(sig);
    }
  }
}

/**
 * Installs tend's signal handling before anything starts, and returns `bind`: signals that arrive before the
 * runtime exists are held and acted on once it is bound. One listener for the whole run, because removing a
 * listener drops a signal libuv has caught but not yet dispatched (and with no listener, SIGTERM would kill
 * tend outright and orphan its services).
 */
export function handleSignals(): { bind(running: Running): void; remove(): void } {
  let target: Running | undefined;
  const held: NodeJS.Signals[] = [];
  const listener = (sig: NodeJS.Signals) => {
    if (target) actOnSignal(target, sig);
    else held.push(sig);
  };
  for (const s of HANDLED_SIGNALS) process.on(s, listener);
  return {
    bind(running) {
      target = running;
      for (const s of held.splice(0)) actOnSignal(running, s);
    },
    remove() {
      for (const s of HANDLED_SIGNALS) process.off(s, listener);
    },
  };
}

export function describeEvent(e: TendEvent): string | undefined {
  switch (e.kind) {
    case 'service': {
      let text = `${e.service} ${e.to}`;
      if (e.pid && e.to === 'running') text += ` (pid ${e.pid})`;
      if (e.reason) text += `: ${e.reason}`;
      return text;
    }
    case 'app':
      return `app ${e.to}${e.reason ? `: ${e.reason}` : ''}`;
    case 'job':
      return `${e.service} job ${e.run}${e.exitCode !== undefined && e.exitCode !== null ? ` (exit ${e.exitCode})` : ''}`;
    case 'config':
      return e.action === 'unchanged'
        ? undefined
        : `config ${e.action}${e.destination ? ` ${e.destination}` : ''}${e.reason ? `: ${e.reason}` : ''}`;
    case 'finish':
      return e.ok ? undefined : `${e.service} finish hook failed${e.output ? `: ${e.output}` : ''}`;
    default:
      return undefined;
  }
}

function printEvent(out: NodeJS.WritableStream, e: TendEvent) {
  const text = describeEvent(e);
  if (text) out.write(`tend | ${text}\n`);
}
