/**
 * The runner of one service: feeds inputs to the pure machine and performs the effects it returns
 * (spawn, signal, timers, probes), publishing a `service` event for every state change.
 */
import type { ChildProcess } from 'node:child_process';
import type { Bus, ServiceState } from '../events/index.js';
import type { ServicePlan } from '../manifest/types.js';
import { type LongTimer, setLongTimeout } from '../time/index.js';
import {
  type Effect,
  type Input,
  initialModel,
  type Model,
  restartsOf,
  type SignalTarget,
  signalTarget,
  type TimerName,
  transition,
} from './machine.js';
import { groupAlive, signalGroup, spawnService } from './spawn.js';

/** What the runner needs from the rest of tend; every part optional so tests and `tend run` stay small. */
export interface ServiceHooks {
  /** a new child: attach its output to the log, record its pid */
  onSpawn?(child: ChildProcess): void;
  onExit?(pid: number, code: number | null, signal: string | null): void;
  /** start polling readiness; call `report` once with the outcome */
  probeReady?(report: (ok: boolean, reason?: string) => void): void;
  /** start liveness checks; call `unhealthy` when `failures` in a row failed */
  probeHealth?(unhealthy: (reason: string) => void): void;
  stopProbes?(): void;
  /**
   * Runs when a stop begins, before the stop signal: the signal (and the kill timer) wait until it settles, at
   * most BEFORE_STOP_MAX_MS, so that discovery drops the instance before its process stops serving.
   */
  beforeStop?(): Promise<void> | undefined;
  /** runs the `finish` command after an exit */
  finish?(code: number | null, signal: string | null, restarts: number): void;
  onState?(model: Model, previous: Model): void;
}

export interface ServiceStatus {
  name: string;
  state: ServiceState;
  reason?: string;
  pid?: number;
  ready: boolean;
  /** `up` while tend should keep it running */
  desired: 'up' | 'down';
  /**
   * failures in a row not yet forgiven: 0 once the current process has run `reset_after`. Above 0 while a
   * crash-looping service is caught up between two crashes (`isSteady` says no).
   */
  failureStreak: number;
  restarts: number;
  startedAt?: number;
  uptimeMs?: number;
  lastExit?: { code: number | null; signal: string | null; at: number };
  job: boolean;
}

export interface ServiceRunner {
  readonly name: string;
  /** fixed for the runner's life: a reload replaces a changed service with a new runner */
  readonly plan: ServicePlan;
  model(): Model;
  send(input: DistributiveOmit<Input, 'now'>): void;
  /**
   * sends a reload or forwarded signal to the service's main process, or to its process group with
   * `signal_group: true`; false when there is no such process
   */
  signal(signal: NodeJS.Signals): boolean;
  /** times: `startedAt` and `lastExit.at` are wall-clock dates, `uptimeMs` comes from the monotonic clock */
  status(): ServiceStatus;
  /** resolves once no process of the service is left (immediately if none) */
  settled(): Promise<void>;
  /** true while a child or its group still runs */
  hasProcess(): boolean;
  /** every pid this runner has spawned and not yet collected */
  pid(): number | undefined;
  /** the environment of the next spawn (env_from changes); a running process keeps its own */
  setEnv(env: NodeJS.ProcessEnv): void;
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/**
 * Where a runner reads the time. `now` is monotonic and is what every elapsed time comes from (uptime,
 * backoff, reset_after, the failure window, the wait for a group to go): a wall clock stepped back an hour
 * once showed `up -3577s`. `wall` is only for times shown as dates (`startedAt`, `lastExit.at`).
 */
export interface Clock {
  now(): number;
  wall(): number;
}

export const systemClock: Clock = { now: () => performance.now(), wall: () => Date.now() };

export interface RunnerOptions {
  plan: ServicePlan;
  clock?: Clock;
  bus: Bus;
  env: NodeJS.ProcessEnv;
  hooks?: ServiceHooks;
  /** sockets held for the service by the stack: every start gets them as fds 3, 4, … */
  listen?: { fds: readonly number[]; names: readonly string[] };
}

const GROUP_POLL_MS = 10;
/** the longest a stop signal waits for `beforeStop` (a KV outage must not hold a stop for long) */
export const BEFORE_STOP_MAX_MS = 5000;

export function createServiceRunner(opts: RunnerOptions): ServiceRunner {
  const { bus } = opts;
  const hooks = opts.hooks ?? {};
  const plan = opts.plan;
  const clock = opts.clock ?? systemClock;
  /** wall-clock times of the last spawn and exit, for display only */
  let startedWall: number | undefined;
  let exitWall: number | undefined;
  let env = opts.env;
  let model = initialModel();
  let child: ChildProcess | undefined;
  /** process group of the current or last child, while any member may still run */
  let pgid: number | undefined;
  // the machine's timers run users' durations (backoff, cooldown, timeouts): long timers never fire early
  const timers = new Map<TimerName, LongTimer>();
  let settledWaiters: Array<() => void> = [];

  // restart.overlap (with listen:): the next process, spawned before the old one is signalled, both accepting
  // on the sockets tend holds; handed over when the machine asks for the spawn. `exit` is set if it ended first.
  const overlapping = plan.restart.overlapMs !== undefined && (opts.listen?.fds.length ?? 0) > 0;
  let overlapTimer: LongTimer | undefined;
  let successor:
    | { child: ChildProcess; pid: number; exit?: { code: number | null; signal: NodeJS.Signals | null } }
    | undefined;
  let successorKill: LongTimer | undefined;

  // While a transition spawns ahead of its other effects, the `spawned` input of that spawn waits here, so
  // that events still read exited → starting → running.
  let holdSpawned = false;
  let heldSpawned: DistributiveOmit<Input, 'now'> | undefined;

  const send = (partial: DistributiveOmit<Input, 'now'>) => {
    if (holdSpawned && partial.t === 'spawned') {
      heldSpawned = partial;
      return;
    }
    if (
      overlapping &&
      !successor &&
      model.desired === 'up' &&
      (model.state === 'running' || model.state === 'ready') &&
      (partial.t === 'restart' || (partial.t === 'config' && partial.change.restart))
    ) {
      preSpawn();
      const s = successor;
      const delay = plan.restart.overlapMs ?? 0;
      if (s && delay > 0) {
        // the old process keeps serving beside the new one meanwhile; the restart goes on only if nothing
        // else (a stop, a crash of the old one, which hands over at once) has happened to the newcomer
        overlapTimer = setLongTimeout(() => {
          overlapTimer = undefined;
          if (successor === s && model.desired === 'up') send(partial);
        }, delay);
        return;
      }
    }
    if (partial.t === 'stop' && overlapTimer) {
      overlapTimer.clear();
      overlapTimer = undefined;
    }
    const input = { ...partial, now: Math.round(clock.now()) } as Input;
    const previous = model;
    const { model: next, effects: all } = transition(previous, input, plan);
    model = next;
    if (input.t === 'spawned' || input.t === 'spawn-error') startedWall = clock.wall();
    if (input.t === 'exit') exitWall = clock.wall();
    let effects = all;
    // The replacement is forked before events, hooks and the other effects of the exit are handled: they
    // cost ~0.8 ms of JavaScript that a restart need not wait for (bench/RESULTS.md, F3). None of them
    // bears on the spawn: stop-probes ends a generation the spawn has ended already, finish runs beside it.
    const spawnAt = effects.findIndex((e) => e.t === 'spawn');
    if (spawnAt > 0) {
      effects = effects.filter((_, i) => i !== spawnAt);
      holdSpawned = true;
      try {
        doSpawn();
      } finally {
        holdSpawned = false;
      }
    }
    // The machine goes from running/ready straight to stopping on an unhealthy verdict; operators still want
    // to see `unhealthy` as its own step in events, logs and the dashboard timeline.
    const sawUnhealthy =
      input.t === 'unhealthy' && next.state === 'stopping' && previous.state !== 'stopping';
    const shown = sawUnhealthy ? { ...next, state: 'unhealthy' as const } : undefined;
    if (shown) publish(previous, shown, input);
    if (next.state !== previous.state || next.reason !== previous.reason || next.pid !== previous.pid) {
      publish(shown ?? previous, next, input);
    }
    hooks.onState?.(next, previous);
    performAll(effects);
    if (heldSpawned) {
      const held = heldSpawned;
      heldSpawned = undefined;
      send(held);
    }
    if (successor && model.desired === 'down') stopSuccessor();
    if (!runnerHasProcess()) flushSettled();
  };

  const spawnOptions = () => ({
    cwd: plan.cwd,
    env,
    user: plan.runAs,
    listen: opts.listen,
  });

  /** restart.overlap: the new process now, the old one's stop signal right after (the machine's restart) */
  const preSpawn = () => {
    let c: ChildProcess;
    try {
      c = spawnService(plan.command, spawnOptions());
    } catch {
      return; // the ordinary restart follows, and reports the error at its own spawn
    }
    const pid = c.pid;
    if (pid === undefined) {
      c.once('error', () => {});
      return;
    }
    const s: NonNullable<typeof successor> = { child: c, pid };
    successor = s;
    c.once('error', () => {});
    c.once('exit', (code, signal) => {
      // handed over by then: an exit like any other
      if (successor !== s) return onChildExit(c, pid, code, signal);
      hooks.onExit?.(pid, code, signal);
      if (groupAlive(pid)) signalGroup(pid, 'SIGKILL');
      successorKill?.clear();
      successorKill = undefined;
      if (model.desired === 'down') successor = undefined;
      else s.exit = { code, signal };
      if (!runnerHasProcess()) flushSettled();
    });
    hooks.onSpawn?.(c);
  };

  /** a stop came during the overlap: the process that was to take over goes too */
  const stopSuccessor = () => {
    const s = successor;
    if (!s || s.exit || successorKill) {
      if (s?.exit) successor = undefined;
      return;
    }
    signalGroup(s.pid, plan.stop.signal);
    // overlap and stop.timeout are a user's durations: long timers
    successorKill = setLongTimeout(() => signalGroup(s.pid, 'SIGKILL'), plan.stop.timeoutMs);
  };

  const performAll = (effects: Effect[]) => {
    for (let i = 0; i < effects.length; i++) {
      const e = effects[i];
      if (e.t === 'signal' && e.signal !== 'SIGKILL' && model.state === 'stopping' && hooks.beforeStop) {
        const pending = hooks.beforeStop();
        if (pending) {
          deferStop(pending, effects.slice(i));
          return;
        }
      }
      perform(e);
    }
  };

  /** The stop signal and what follows it wait for `pending`; skipped if that process is no longer stopping. */
  const deferStop = (pending: Promise<void>, rest: Effect[]) => {
    const group = pgid;
    let done = false;
    const go = () => {
      if (done) return;
      done = true;
      clearTimeout(deadline);
      if (model.state === 'stopping' && pgid === group) for (const e of rest) perform(e);
    };
    const deadline = setTimeout(go, BEFORE_STOP_MAX_MS);
    pending.then(go, go);
  };

  const publish = (previous: Model, next: Model, input: Input) => {
    if (next.state === previous.state && next.reason === previous.reason && next.pid === previous.pid) return;
    bus.publish({
      kind: 'service',
      service: plan.name,
      from: previous.state,
      to: next.state,
      reason: next.reason,
      pid: next.pid ?? (input.t === 'exit' ? undefined : previous.pid),
      exitCode: input.t === 'exit' ? input.code : undefined,
      signal: input.t === 'exit' ? input.signal : undefined,
      restarts: restartsOf(next),
    });
  };

  const perform = (e: Effect) => {
    switch (e.t) {
      case 'spawn':
        doSpawn();
        break;
      case 'signal':
        sendSignal(e.signal, e.to);
        break;
      case 'timer': {
        clearTimer(e.name);
        const name = e.name;
        timers.set(
          name,
          setLongTimeout(() => {
            timers.delete(name);
            send({ t: 'timer', name });
          }, e.ms),
        );
        break;
      }
      case 'clear-timer':
        clearTimer(e.name);
        break;
      case 'probe-ready':
        hooks.probeReady?.((ok, reason) => {
          if (ok) send({ t: 'ready' });
          else send({ t: 'not-ready', reason: reason ?? 'not ready in time' });
        });
        break;
      case 'probe-health':
        hooks.probeHealth?.((reason) => send({ t: 'unhealthy', reason }));
        break;
      case 'stop-probes':
        hooks.stopProbes?.();
        break;
      case 'finish':
        hooks.finish?.(e.code, e.signal, restartsOf(model));
        break;
    }
  };

  /** `main`: the process tend spawned, while it lives (not its leftovers); `group`: the whole process group */
  const sendSignal = (sig: NodeJS.Signals, to: SignalTarget): boolean => {
    if (to === 'group') return pgid !== undefined && signalGroup(pgid, sig);
    const pid = child?.pid;
    if (pid === undefined) return false;
    try {
      process.kill(pid, sig);
      return true;
    } catch {
      return false;
    }
  };

  const clearTimer = (name: TimerName) => {
    const t = timers.get(name);
    if (t) {
      t.clear();
      timers.delete(name);
    }
  };

  const doSpawn = () => {
    const next = successor;
    successor = undefined;
    if (next && !next.exit) {
      // restart.overlap: the process spawned before the stop takes over (its output and pid are attached)
      child = next.child;
      pgid = next.pid;
      send({ t: 'spawned', pid: next.pid });
      return;
    }
    let c: ChildProcess;
    try {
      c = spawnService(plan.command, spawnOptions());
    } catch (err) {
      queueMicrotask(() => send({ t: 'spawn-error', message: (err as Error).message }));
      return;
    }
    if (c.pid === undefined) {
      // spawn failed (ENOENT for the cwd or the file): the error event follows on the next tick
      c.once('error', (err) => send({ t: 'spawn-error', message: err.message }));
      return;
    }
    child = c;
    pgid = c.pid;
    const pid = c.pid;
    c.once('error', () => {
      /* exit follows; the error alone (e.g. a failed kill) is not a state change */
    });
    c.once('exit', (code, signal) => onChildExit(c, pid, code, signal));
    hooks.onSpawn?.(c);
    send({ t: 'spawned', pid });
  };

  /**
   * The leader is gone. The service counts as exited only once its whole group is gone: leftovers of a
   * crashed leader get the stop signal, then SIGKILL after the stop timeout, before any restart.
   */
  const onChildExit = (c: ChildProcess, pid: number, code: number | null, signal: NodeJS.Signals | null) => {
    if (child === c) child = undefined;
    hooks.onExit?.(pid, code, signal);
    const group = pid;
    const done = () => {
      if (pgid === group) pgid = undefined;
      send({ t: 'exit', code, signal });
    };
    if (!groupAlive(group)) return done();
    if (model.state !== 'stopping') signalGroup(group, plan.stop.signal);
    const deadline = clock.now() + plan.stop.timeoutMs;
    const poll = () => {
      if (!groupAlive(group)) {
        return done();
      }
      if (clock.now() >= deadline) signalGroup(group, 'SIGKILL');
      setTimeout(poll, GROUP_POLL_MS);
    };
    setTimeout(poll, GROUP_POLL_MS);
  };

  const runnerHasProcess = () =>
    child !== undefined || pgid !== undefined || (successor !== undefined && successor.exit === undefined);

  const flushSettled = () => {
    const waiters = settledWaiters;
    settledWaiters = [];
    for (const w of waiters) w();
  };

  return {
    name: plan.name,
    get plan() {
      return plan;
    },
    model: () => model,
    send,
    signal(sig) {
      return sendSignal(sig, signalTarget(plan));
    },
    status() {
      const now = Math.round(clock.now());
      const running = model.pid !== undefined && model.startedAt !== undefined;
      return {
        name: plan.name,
        state: model.state,
        // why it was (re)started is news in the event, not a standing condition of a running service
        reason: model.state === 'running' || model.state === 'ready' ? undefined : model.reason,
        pid: model.pid,
        ready: model.ready,
        desired: model.desired,
        failureStreak:
          running && now - (model.startedAt ?? now) >= plan.restart.resetAfterMs ? 0 : model.streak,
        restarts: restartsOf(model),
        startedAt: running ? startedWall : undefined,
        uptimeMs: running ? now - (model.startedAt ?? now) : undefined,
        lastExit: model.lastExit && { ...model.lastExit, at: exitWall ?? model.lastExit.at },
        job: plan.isJob,
      };
    },
    settled() {
      if (!runnerHasProcess() && model.state !== 'stopping' && model.state !== 'starting')
        return Promise.resolve();
      return new Promise((resolve) => settledWaiters.push(resolve));
    },
    hasProcess: runnerHasProcess,
    pid: () => child?.pid,
    setEnv(next) {
      env = next;
    },
  };
}
