/**
 * The stack: every enabled service of a Plan, started in `after` order through gates, stopped in reverse,
 * with the essential-service rule. Other modules (render loop, discovery, lifecycle) hold a service back by
 * closing a gate on it, and act on it through start/stop/restart/signal; none of them spawns anything.
 */
import type { Bus } from '../events/index.js';
import { createServiceLog, type EchoTarget, type ServiceLog } from '../logs/index.js';
import type { Plan, ServicePlan } from '../manifest/types.js';
import { type AppEnvSource, appEnv, serviceEnv } from './env.js';
import { type ConfigChange, endStatus } from './machine.js';
import { createServiceRunner, type ServiceHooks, type ServiceRunner, type ServiceStatus } from './service.js';
import { createSocketHolder } from './sockets.js';
import { hasEndedForGood, isReady, isServing } from './state.js';

export interface StackOptions {
  plan: Plan;
  bus: Bus;
  echo?: EchoTarget;
  /** tend's own environment, the base of every child's (default: process.env) */
  env?: NodeJS.ProcessEnv;
  /** the settings file services read (TEND_SETTINGS_FILE), when tend writes one */
  settingsFile?: string;
  /** more of tend's variables for every service, over the manifest's `env` (TEND_SETTINGS_FILE, older callers) */
  extraEnv?: Record<string, string>;
  /** more hooks per service, from the modules that own probes, finish commands and pid records */
  hooks?: (service: ServicePlan, log: ServiceLog) => ServiceHooks;
  /** env of one service that no `env` or env_from may override (the marker that finds its escaped daemons) */
  serviceEnv?: (service: ServicePlan) => Record<string, string>;
}

/** What a config change did: `signalled` names the signals sent */
export type ConfigOutcome =
  | { did: 'restarted' }
  | { did: 'started' }
  | { did: 'signalled'; signals: NodeJS.Signals[] }
  | { did: 'nothing' };

export interface StackEnd {
  service: string;
  code: number;
  reason: string;
}

export interface Stack {
  readonly plan: Plan;
  runner(name: string): ServiceRunner | undefined;
  log(name: string): ServiceLog | undefined;
  names(): string[];
  /** wants every long-running service up; gates decide when each one spawns */
  startAll(): void;
  start(name: string, reason?: string): void;
  stop(name: string, reason?: string): Promise<void>;
  restart(name: string, reason?: string): void;
  /** stops every service, dependants before their dependencies; resolves when no process is left */
  stopAll(reason?: string): Promise<void>;
  setGate(name: string, id: string, reason: string | null): void;
  gates(name: string): Array<{ id: string; reason: string }>;
  /**
   * Extra environment for a service's next spawns (env_from), on top of the plan's `env`; replaces what was set
   * before. Kept across reloads of the service.
   */
  setEnv(name: string, vars: Record<string, string>): void;
  /**
   * The environment every child of the service gets (the service, its probes, checks, on_change commands,
   * finish hook): see supervisor/env.ts. Callers add only their own TEND_* extras. Undefined for an unknown
   * service.
   */
  envOf(name: string): Record<string, string> | undefined;
  /** The environment of an app-level child (a lifecycle stage, a notify script). */
  appEnv(): Record<string, string>;
  /**
   * Its config changed (the render loop, after writing files or env_from): the service's machine decides what
   * that does where it is (restart, signals, nothing; see `transition`'s `config` case). Says what it did.
   */
  configChanged(name: string, change: ConfigChange, reason: string): ConfigOutcome;
  /**
   * Several services' changes of one cause (a settings change), applied in `after` order as `tend up` and a
   * stop would: of the services it restarts, dependants stop before the services they come after, and start
   * again only once those are ready again. Other changes (signals, a start) apply at once.
   */
  configChangedInOrder(
    changes: Array<{ name: string; change: ConfigChange; reason: string }>,
  ): ConfigOutcome[];
  /** gives up on starting a service that has no process (config that never came): `failed` until started */
  fail(name: string, reason: string): void;
  /**
   * Called synchronously when a service is added (reload) before anything can start it, so a module can
   * close its gates first, and when one is removed. Returns the unsubscribe function.
   */
  onServiceChange(listener: (name: string, change: 'added' | 'removed') => void): () => void;
  status(): ServiceStatus[];
  /** every enabled long-running service is ready */
  allReady(): boolean;
  /** resolves when an essential service ends */
  readonly ended: Promise<StackEnd>;
  /** adds services of a new plan and removes ones no longer in it (reload); the caller stops/starts them */
  addService(plan: ServicePlan): void;
  removeService(name: string): Promise<void>;
  /**
   * Closes the listening sockets no service holds any more. A reload calls it once its services are added
   * again, so that a socket whose address a changed service still lists is kept, never re-bound.
   */
  releaseSockets(): void;
  /** binds the new addresses of services about to be added (a reload), so a bind failure comes first */
  reserveSockets(services: ServicePlan[]): void;
  /** the listening sockets held (address → service), for status and tests */
  sockets(): Array<{ address: string; service: string; fd: number }>;
  close(): Promise<void>;
}

export function createStack(opts: StackOptions): Stack {
  const { bus } = opts;
  let plan = opts.plan;
  const runners = new Map<string, ServiceRunner>();
  const logs = new Map<string, ServiceLog>();
  const gates = new Map<string, Map<string, string>>();
  let endResolve!: (e: StackEnd) => void;
  const ended = new Promise<StackEnd>((r) => {
    endResolve = r;
  });
  let stoppingAll = false;
  const baseEnv = opts.env ?? process.env;
  const envOverlays = new Map<string, Record<string, string>>();
  const serviceListeners = new Set<(name: string, change: 'added' | 'removed') => void>();
  const notifyServices = (name: string, change: 'added' | 'removed') => {
    for (const l of [...serviceListeners]) l(name, change);
  };
  const appSource = (): AppEnvSource => ({
    base: baseEnv,
    app: plan.name,
    dataDir: plan.dataDir,
    settingsFile: opts.settingsFile ?? opts.extraEnv?.TEND_SETTINGS_FILE,
  });
  const envOf = (sp: ServicePlan): Record<string, string> =>
    serviceEnv(appSource(), sp, {
      envFrom: envOverlays.get(sp.name),
      tend: { ...opts.extraEnv, ...opts.serviceEnv?.(sp) },
    });

  // service -> the services whose `after` names it. Rebuilt lazily after a service is added or removed (a
  // reload replaces a changed service that way); a scan per readiness change made a 1,000-service start O(n²).
  let dependantIndex: Map<string, string[]> | undefined;
  const dependants = (name: string): string[] => {
    if (!dependantIndex) {
      dependantIndex = new Map();
      for (const r of runners.values()) {
        for (const dep of r.plan.after) {
          const list = dependantIndex.get(dep);
          if (list) list.push(r.name);
          else dependantIndex.set(dep, [r.name]);
        }
      }
    }
    return dependantIndex.get(name) ?? [];
  };

  const applyGates = (name: string) => {
    const r = runners.get(name);
    if (!r) return;
    const g = gates.get(name);
    const open = !g || g.size === 0;
    const reason = open ? undefined : [...(g?.values() ?? [])].join('; ');
    const m = r.model();
    if (m.gatesOpen !== open || (!open && m.gateReason !== reason)) r.send({ t: 'gates', open, reason });
  };

  const setGate = (name: string, id: string, reason: string | null) => {
    let g = gates.get(name);
    if (!g) {
      g = new Map();
      gates.set(name, g);
    }
    if (reason === null) {
      if (!g.delete(id)) return;
    } else {
      if (g.get(id) === reason) return;
      g.set(id, reason);
    }
    applyGates(name);
  };

  // configChangedInOrder: dependency -> the services held until it is ready again after its restart
  const heldForRestart = new Map<string, Set<string>>();
  /** Opens those gates without applying them; the caller applies (one state change, not two). */
  const releaseRestartGates = (dependency: string): string[] => {
    const held = heldForRestart.get(dependency);
    if (!held) return [];
    heldForRestart.delete(dependency);
    for (const d of held) gates.get(d)?.delete(`restart:${dependency}`);
    return [...held];
  };

  const refreshAfterGates = (dependency: string, ready: boolean) => {
    for (const d of dependants(dependency)) {
      setGate(d, `after:${dependency}`, ready ? null : `waiting for ${dependency} to be ready`);
    }
  };

  // Bound before anything starts (a SocketError here stops `tend up` with a start error), kept for tend's life.
  const sockets = createSocketHolder();

  const addService = (sp: ServicePlan) => {
    const listen = sockets.acquire(sp);
    const log = createServiceLog({
      service: sp.name,
      plan: sp.logs,
      echo: sp.logs.stdout ? opts.echo : undefined,
    });
    logs.set(sp.name, log);
    const extra = opts.hooks?.(sp, log) ?? {};
    const env = envOf(sp);
    const hooks: ServiceHooks = {
      ...extra,
      onSpawn(child) {
        if (child.stdout) log.attach(child.stdout, 'stdout');
        if (child.stderr) log.attach(child.stderr, 'stderr');
        extra.onSpawn?.(child);
      },
      onExit(pid, code, signal) {
        log.note(signal ? `process ${pid} killed by ${signal}` : `process ${pid} exited with code ${code}`);
        extra.onExit?.(pid, code, signal);
      },
      onState(next, previous) {
        if (next.ready !== previous.ready) {
          const released = next.ready ? releaseRestartGates(sp.name) : [];
          refreshAfterGates(sp.name, next.ready);
          for (const d of released) applyGates(d);
        }
        const r = runners.get(sp.name);
        if (
          r?.plan.essential &&
          !stoppingAll &&
          next.desired === 'up' &&
          (next.state === 'exited' || next.state === 'failed') &&
          previous.state !== next.state
        ) {
          const exit = next.lastExit;
          endResolve({
            service: sp.name,
            code: exit ? endStatus(sp, exit.code, exit.signal) : 1,
            reason: `essential service ${sp.name} ended (${next.reason ?? next.state})`,
          });
        }
        extra.onState?.(next, previous);
      },
    };
    const runner = createServiceRunner({ plan: sp, bus, env, hooks, listen });
    runners.set(sp.name, runner);
    dependantIndex = undefined;
    for (const dep of sp.after) {
      const d = runners.get(dep);
      if (!d?.model().ready) setGate(sp.name, `after:${dep}`, `waiting for ${dep} to be ready`);
    }
  };

  try {
    for (const name of plan.order) addService(plan.services[name]);
  } catch (err) {
    sockets.closeAll();
    throw err;
  }

  const configChanged = (name: string, change: ConfigChange, reason: string): ConfigOutcome => {
    const r = runners.get(name);
    if (!r) return { did: 'nothing' };
    const before = r.model();
    const serving = isServing(before) && r.hasProcess();
    r.send({ t: 'config', change, reason });
    const after = r.model();
    if (after.state === 'stopping' && before.state !== 'stopping') return { did: 'restarted' };
    if (hasEndedForGood(before) && !hasEndedForGood(after)) return { did: 'started' };
    if (!change.restart && serving && change.signals.length > 0)
      return { did: 'signalled', signals: [...new Set(change.signals)] };
    return { did: 'nothing' };
  };

  const configChangedInOrder = (
    changes: Array<{ name: string; change: ConfigChange; reason: string }>,
  ): ConfigOutcome[] => {
    // the ones this change restarts: a process that runs and is not already stopping (the machine's rule)
    const restarts = (c: { name: string; change: ConfigChange }) => {
      const r = runners.get(c.name);
      return !!r && c.change.restart && !r.plan.isJob && r.hasProcess() && r.model().state !== 'stopping';
    };
    const restarting = new Map(
      changes.filter(restarts).map((c) => [c.name, { ...c, runner: runners.get(c.name) }]),
    );
    // the restarting services each one comes after, through any chain of `after` (a service in between that
    // keeps running does not break the order: it only stands between them)
    const upstream = new Map<string, Set<string>>();
    for (const name of restarting.keys()) {
      const found = new Set<string>();
      const seen = new Set<string>();
      const walk = (n: string) => {
        for (const dep of runners.get(n)?.plan.after ?? []) {
          if (seen.has(dep)) continue;
          seen.add(dep);
          if (restarting.has(dep)) found.add(dep);
          walk(dep);
        }
      };
      walk(name);
      upstream.set(name, found);
    }
    // held before anything stops, so that a dependant that exits first cannot start again before them
    for (const [name, deps] of upstream) {
      for (const dep of deps) {
        setGate(name, `restart:${dep}`, `waiting for ${dep} to restart`);
        const held = heldForRestart.get(dep) ?? new Set<string>();
        heldForRestart.set(dep, held);
        held.add(name);
      }
    }
    // each one stops once its dependants are gone, as stopAll orders a stop
    const gone = new Map<string, Promise<void>>();
    const stopInOrder = (name: string): Promise<void> => {
      let p = gone.get(name);
      if (p) return p;
      const below = [...restarting.keys()].filter((n) => upstream.get(n)?.has(name));
      const send = () => {
        const c = restarting.get(name);
        // tend is stopping, or a reload replaced the service meanwhile: its own stop or start orders it
        if (!c?.runner || stoppingAll || c.runner !== runners.get(name)) return;
        configChanged(c.name, c.change, c.reason);
        return c.runner.settled();
      };
      // nothing to wait for: at once, as configChanged would
      p = below.length === 0 ? Promise.resolve(send()) : Promise.all(below.map(stopInOrder)).then(send);
      gone.set(name, p);
      return p;
    };
    return changes.map((c) => {
      if (!restarting.has(c.name)) return configChanged(c.name, c.change, c.reason);
      void stopInOrder(c.name);
      return { did: 'restarted' };
    });
  };

  const stopAll = async (reason = 'stopping') => {
    stoppingAll = true;
    const done = new Map<string, Promise<void>>();
    const stopOne = (name: string): Promise<void> => {
      let p = done.get(name);
      if (p) return p;
      p = Promise.all(dependants(name).map(stopOne)).then(() => {
        const r = runners.get(name);
        if (!r) return;
        r.send({ t: 'stop', reason });
        return r.settled();
      });
      done.set(name, p);
      return p;
    };
    // Reverse start order, so that unrelated services are also signalled last-started-first.
    await Promise.all([...runners.keys()].reverse().map(stopOne));
  };

  return {
    get plan() {
      return plan;
    },
    runner: (name) => runners.get(name),
    log: (name) => logs.get(name),
    names: () => [...runners.keys()],
    startAll() {
      stoppingAll = false;
      for (const r of runners.values()) if (!r.plan.isJob) r.send({ t: 'start' });
    },
    start(name, reason) {
      stoppingAll = false;
      runners.get(name)?.send({ t: 'start', reason });
    },
    async stop(name, reason) {
      const r = runners.get(name);
      if (!r) return;
      r.send({ t: 'stop', reason });
      await r.settled();
    },
    restart(name, reason) {
      runners.get(name)?.send({ t: 'restart', reason });
    },
    stopAll,
    setGate,
    setEnv(name, vars) {
      envOverlays.set(name, { ...vars });
      const r = runners.get(name);
      if (r) r.setEnv(envOf(r.plan));
    },
    envOf(name) {
      const r = runners.get(name);
      return r ? envOf(r.plan) : undefined;
    },
    appEnv: () => appEnv(appSource()),
    configChanged,
    configChangedInOrder,
    fail(name, reason) {
      runners.get(name)?.send({ t: 'fail', reason });
    },
    onServiceChange(listener) {
      serviceListeners.add(listener);
      return () => {
        serviceListeners.delete(listener);
      };
    },
    gates: (name) =>
      [...(gates.get(name) ?? new Map<string, string>())].map(([id, reason]) => ({ id, reason })),
    status: () => [...runners.values()].map((r) => r.status()),
    allReady: () => [...runners.values()].every((r) => r.plan.isJob || isReady(r.model())),
    ended,
    addService(sp) {
      plan = { ...plan, services: { ...plan.services, [sp.name]: sp } };
      addService(sp);
      notifyServices(sp.name, 'added');
    },
    async removeService(name) {
      const r = runners.get(name);
      if (!r) return;
      r.send({ t: 'stop', reason: 'removed from the manifest' });
      await r.settled();
      runners.delete(name);
      sockets.orphan(name);
      dependantIndex = undefined;
      gates.delete(name);
      await logs.get(name)?.close();
      logs.delete(name);
      for (const d of dependants(name)) setGate(d, `after:${name}`, null);
      for (const d of releaseRestartGates(name)) applyGates(d);
      notifyServices(name, 'removed');
    },
    releaseSockets: () => sockets.release(),
    reserveSockets: (services) => sockets.reserve(services),
    sockets: () => sockets.list(),
    async close() {
      sockets.closeAll();
      await Promise.all([...logs.values()].map((l) => l.close()));
    },
  };
}
