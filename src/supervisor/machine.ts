/**
 * The service state machine, pure: `transition(model, input, plan) → { model, effects }`.
 * It decides; the runner (service.ts) performs. Nothing here touches a process, a timer or a clock.
 */

import { constants } from 'node:os';
import type { ServiceState } from '../events/index.js';
import type { ServicePlan } from '../manifest/types.js';
import { formatDuration, backoffDelay as nextDelay } from '../time/index.js';
import { hasProcessState } from './state.js';

const osSignals = constants.signals as Record<string, number>;

export type TimerName = 'backoff' | 'cooldown' | 'kill';

/** What the process should do once a stop completes. */
export type AfterStop = 'stay-down' | 'start-again' | 'count-as-failure';

export interface Model {
  state: ServiceState;
  reason?: string;
  pid?: number;
  /** ready for `after` dependants and /readyz: a probe passed, or there is no probe and it runs */
  ready: boolean;
  /** `up` while tend should keep it running */
  desired: 'up' | 'down';
  /** every gate (after, requires, config) is open */
  gatesOpen: boolean;
  gateReason?: string;
  spawns: number;
  /** consecutive failures, for the backoff */
  streak: number;
  /** times of failures still inside the window */
  failures: number[];
  startedAt?: number;
  lastExit?: { code: number | null; signal: string | null; at: number };
  afterStop: AfterStop;
  /**
   * It exited with one of `restart.prevent_exit_codes` (it said it cannot run as things are): `exited`, not
   * restarted until it is started again or its config changes.
   */
  held?: boolean;
}

export type Input =
  | { t: 'start'; now: number; reason?: string }
  | { t: 'stop'; now: number; reason?: string }
  | { t: 'restart'; now: number; reason?: string }
  | { t: 'gates'; now: number; open: boolean; reason?: string }
  | { t: 'spawned'; now: number; pid: number }
  | { t: 'spawn-error'; now: number; message: string }
  /** the process and every member of its group are gone */
  | { t: 'exit'; now: number; code: number | null; signal: string | null }
  | { t: 'timer'; now: number; name: TimerName }
  | { t: 'ready'; now: number }
  | { t: 'not-ready'; now: number; reason: string }
  | { t: 'unhealthy'; now: number; reason: string }
  /** another module gives up on starting it (e.g. its config never came); ignored while a process runs */
  | { t: 'fail'; now: number; reason: string }
  /** its config changed (templates, env_from): what that does depends on where the service is (`onConfig`) */
  | { t: 'config'; now: number; change: ConfigChange; reason: string };

/**
 * What a config change asks of a service, merged over one batch of changed templates: `restart` wins over the
 * signals (`reload` is its `reload_signal`); `exec` actions are run by the render loop itself.
 */
export interface ConfigChange {
  restart: boolean;
  signals: readonly NodeJS.Signals[];
}

export type Effect =
  | { t: 'spawn' }
  /** `group`: every process of the service's group (stop); `main`: its main process only (reload, signals) */
  | { t: 'signal'; signal: NodeJS.Signals; to: SignalTarget }
  | { t: 'timer'; name: TimerName; ms: number }
  | { t: 'clear-timer'; name: TimerName }
  | { t: 'probe-ready' }
  | { t: 'probe-health' }
  | { t: 'stop-probes' }
  | { t: 'finish'; code: number | null; signal: string | null };

export type SignalTarget = 'group' | 'main';

/**
 * Where a reload or a config signal goes: the main process, as systemd's $MAINPID and supervisord do (a
 * gunicorn master re-execs its workers on SIGHUP; sent to the group, the workers die of it mid-request), or the
 * whole group for a service that asks for it (`signal_group: true`). Stop signals always go to the group.
 */
export function signalTarget(plan: ServicePlan): SignalTarget {
  return plan.signalGroup ? 'group' : 'main';
}

export function initialModel(): Model {
  return {
    state: 'stopped',
    ready: false,
    desired: 'down',
    gatesOpen: true,
    spawns: 0,
    streak: 0,
    failures: [],
    afterStop: 'stay-down',
  };
}

/** Restarts so far: every spawn after the first. */
export function restartsOf(m: Model): number {
  return Math.max(0, m.spawns - 1);
}

/** Full-jitter-free but spread: a delay in [d/2, d], so that many services failing together do not retry in step. */
export function backoffDelay(plan: ServicePlan, streak: number, random: number): number {
  if (streak <= 1) return 0;
  return nextDelay(streak - 2, { ...plan.restart.backoff, jitter: 'half' }, random);
}

const hasProcess = hasProcessState;

/** An exit code of `restart.success_exit_codes` counts as 0 does: a clean exit. */
export function isCleanExit(plan: ServicePlan, code: number | null, signal: string | null): boolean {
  if (signal !== null || code === null) return false;
  return code === 0 || plan.restart.successExitCodes.includes(code);
}

/**
 * The exit status a service's end stands for (tend's own exit code when an essential service ends): the
 * shell's status, except that a success exit code counts as 0.
 */
export function endStatus(plan: ServicePlan, code: number | null, signal: string | null): number {
  if (signal) return 128 + (osSignals[signal as NodeJS.Signals] ?? 0);
  if (isCleanExit(plan, code, signal)) return 0;
  return code ?? 0;
}

/**
 * Down, and waiting for new config to be worth starting again: given up on (`failed`), or held by a
 * `restart.prevent_exit_codes` exit, while tend still wants it up.
 */
export function awaitsNewConfig(m: Model): boolean {
  return m.desired === 'up' && (m.state === 'failed' || (m.state === 'exited' && m.held === true));
}

export interface Result {
  model: Model;
  effects: Effect[];
}

export function transition(m0: Model, input: Input, plan: ServicePlan, random = Math.random()): Result {
  const m: Model = { ...m0 };
  const fx: Effect[] = [];

  const spawn = (reason?: string) => {
    m.state = 'starting';
    m.reason = reason;
    m.ready = false;
    fx.push({ t: 'spawn' });
  };
  const startIfGated = (reason?: string) => {
    if (m.gatesOpen) spawn(reason);
    else {
      m.state = 'waiting';
      m.reason = m.gateReason;
    }
  };
  const beginStop = (afterStop: AfterStop, reason?: string) => {
    m.state = 'stopping';
    m.reason = reason;
    m.ready = false;
    m.afterStop = afterStop;
    fx.push({ t: 'stop-probes' }, { t: 'signal', signal: plan.stop.signal, to: 'group' });
    fx.push({ t: 'timer', name: 'kill', ms: plan.stop.timeoutMs });
  };
  const clearWaits = () => {
    fx.push({ t: 'clear-timer', name: 'backoff' }, { t: 'clear-timer', name: 'cooldown' });
  };

  /** An exit tend did not ask for (or a failed start): restart per policy, back off, or give up. */
  const onFailure = (code: number | null, signal: string | null, now: number, why: string) => {
    if (m.startedAt !== undefined && now - m.startedAt >= plan.restart.resetAfterMs) {
      m.streak = 0;
      m.failures = [];
    }
    const policy = plan.restart.policy;
    const clean = isCleanExit(plan, code, signal);
    if (plan.isJob || policy === 'never' || (policy === 'on-failure' && clean) || m.desired === 'down') {
      m.state = 'exited';
      m.reason = why;
      return;
    }
    m.streak++;
    // Only a failed start (a run shorter than min_uptime) counts toward giving up, as supervisord's startsecs
    // and PM2's min_uptime: a service that ran a while and crashed is restarted, with backoff, forever.
    const recent = m.failures.filter((t) => now - t < plan.restart.windowMs);
    const ranFor = m.startedAt === undefined ? 0 : now - m.startedAt;
    m.failures = ranFor < plan.restart.minUptimeMs ? [...recent, now] : recent;
    const max = plan.restart.maxFailures;
    if (max > 0 && m.failures.length >= max) {
      m.state = 'failed';
      // an essential service failed for good ends tend: no retry to announce
      const retry =
        plan.restart.cooldownMs > 0 && !plan.essential
          ? `; retrying in ${formatDuration(plan.restart.cooldownMs)}`
          : '';
      m.reason = `${m.failures.length} failures in ${formatDuration(plan.restart.windowMs)} (last: ${why})${retry}`;
      if (plan.restart.cooldownMs > 0) fx.push({ t: 'timer', name: 'cooldown', ms: plan.restart.cooldownMs });
      return;
    }
    const delay = backoffDelay(plan, m.streak, random);
    if (delay === 0) {
      startIfGated(`restarted after ${why}`);
      return;
    }
    m.state = 'backoff';
    m.reason = `${why}; restarting in ${formatDuration(delay)}`;
    fx.push({ t: 'timer', name: 'backoff', ms: delay });
  };

  switch (input.t) {
    case 'start': {
      m.desired = 'up';
      if (m.state === 'stopping') m.afterStop = 'start-again';
      else if (!hasProcess(m.state) && m.state !== 'backoff') {
        if (m.state === 'failed' || m.state === 'exited' || m.state === 'stopped') {
          m.streak = 0;
          m.failures = [];
        }
        clearWaits();
        startIfGated(input.reason);
      }
      break;
    }
    case 'stop': {
      m.desired = 'down';
      if (m.state === 'stopping') m.afterStop = 'stay-down';
      else if (hasProcess(m.state)) beginStop('stay-down', input.reason);
      else if (m.state !== 'stopped' && m.state !== 'exited') {
        clearWaits();
        m.state = 'stopped';
        m.reason = input.reason;
      }
      break;
    }
    case 'restart': {
      m.desired = 'up';
      if (m.state === 'stopping') m.afterStop = 'start-again';
      else if (hasProcess(m.state)) beginStop('start-again', input.reason);
      else {
        m.streak = 0;
        m.failures = [];
        clearWaits();
        startIfGated(input.reason);
      }
      break;
    }
    case 'gates': {
      m.gatesOpen = input.open;
      m.gateReason = input.open ? undefined : input.reason;
      if (m.state === 'waiting') {
        if (input.open && m.desired === 'up') spawn(input.reason);
        else m.reason = m.gateReason;
      }
      break;
    }
    case 'spawned': {
      m.held = undefined;
      m.pid = input.pid;
      m.spawns++;
      m.startedAt = input.now;
      m.state = 'running';
      if (plan.ready) fx.push({ t: 'probe-ready' });
      else {
        m.ready = true;
        if (plan.health) fx.push({ t: 'probe-health' });
      }
      break;
    }
    case 'spawn-error': {
      m.pid = undefined;
      m.startedAt = input.now;
      onFailure(null, null, input.now, `could not start: ${input.message}`);
      break;
    }
    case 'exit': {
      const { code, signal, now } = input;
      m.pid = undefined;
      m.ready = false;
      m.lastExit = { code, signal, at: now };
      fx.push({ t: 'clear-timer', name: 'kill' }, { t: 'stop-probes' }, { t: 'finish', code, signal });
      const success = code !== 0 && isCleanExit(plan, code, signal) ? ' (a success exit code)' : '';
      const how = signal ? `killed by ${signal}` : `exit code ${code}${success}`;
      if (m.state === 'stopping') {
        const after = m.afterStop;
        m.afterStop = 'stay-down';
        if (after === 'start-again' && m.desired === 'up') startIfGated(m.reason);
        else if (after === 'count-as-failure' && m.desired === 'up')
          onFailure(code, signal, now, m.reason ?? how);
        else {
          m.state = 'stopped';
          m.reason = undefined;
        }
      } else if (plan.isJob) {
        m.state = 'exited';
        m.reason = how;
      } else if (signal === null && code !== null && plan.restart.preventExitCodes.includes(code)) {
        // The service said it cannot run as things are (seed 000's run-lb-command exits 3 on incomplete
        // config): restarting it would only fail again. Not a failure either: no backoff, no streak, no
        // `failed`. What it lacked may come with new config, so a config change starts it again.
        m.state = 'exited';
        m.held = true;
        m.reason = `${how}, in restart.prevent_exit_codes: not restarted until its config changes or it is started`;
      } else onFailure(code, signal, now, how);
      break;
    }
    case 'timer': {
      if (input.name === 'kill' && m.state === 'stopping') {
        fx.push({ t: 'signal', signal: 'SIGKILL', to: 'group' });
        m.reason = `did not stop within ${formatDuration(plan.stop.timeoutMs)}; killed`;
      } else if (input.name === 'backoff' && m.state === 'backoff' && m.desired === 'up')
        startIfGated(m.reason);
      else if (input.name === 'cooldown' && m.state === 'failed' && m.desired === 'up') {
        m.streak = 0;
        m.failures = [];
        startIfGated('cooldown over');
      }
      break;
    }
    case 'ready': {
      if (m.state === 'running' || m.state === 'unhealthy') {
        m.state = 'ready';
        m.reason = undefined;
        m.ready = true;
        if (plan.health) fx.push({ t: 'probe-health' });
      }
      break;
    }
    case 'not-ready': {
      if (m.state === 'running' || m.state === 'starting') beginStop('count-as-failure', input.reason);
      break;
    }
    case 'unhealthy': {
      if (m.state === 'running' || m.state === 'ready') {
        m.state = 'unhealthy';
        m.reason = input.reason;
        m.ready = false;
        beginStop('count-as-failure', input.reason);
      }
      break;
    }
    case 'fail': {
      // A running service keeps running: only one that could not start yet is given up on. `start` retries it.
      if (!hasProcess(m.state)) {
        clearWaits();
        m.state = 'failed';
        m.reason = input.reason;
      }
      break;
    }
    case 'config': {
      // The rule of what a config change does, by state:
      // - a process that should keep running (starting, running, ready, unhealthy): restart it, or send it the
      //   signals; the file is already in place, so the new process reads the new config;
      // - stopping: nothing; a restart in progress spawns on the new config, a stop stays a stop;
      // - backoff, waiting, stopped, exited: nothing; the next start reads the new config (a change does not
      //   cut a backoff short: a crash loop must not be fed by config churn);
      // - failed while tend wants it up: a restart, since the new config may be what it lacked;
      // - a job is never restarted by a config change: its next run reads the new config.
      const { change } = input;
      if (plan.isJob) break;
      const serving = hasProcess(m.state) && m.state !== 'stopping';
      if (change.restart) {
        if (serving) beginStop('start-again', input.reason);
        else if (awaitsNewConfig(m)) {
          m.streak = 0;
          m.failures = [];
          clearWaits();
          startIfGated(input.reason);
        }
      } else if (serving) {
        for (const signal of new Set(change.signals))
          fx.push({ t: 'signal', signal, to: signalTarget(plan) });
      } else if (m.state === 'exited' && m.held && m.desired === 'up') {
        // nothing to signal: it exited waiting for this change
        m.streak = 0;
        m.failures = [];
        clearWaits();
        startIfGated(input.reason);
      }
      break;
    }
  }
  return { model: m, effects: fx };
}
