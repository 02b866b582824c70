/**
 * One truth of service state: the named predicates every reader uses (the live start-up table, `tend status`,
 * the dashboard, metrics, render, requires, lifecycle, the scheduler, the control server), so that no two of
 * them can disagree about what a state means. They read what the stack reports (`ServiceStatus`) or the
 * machine's `Model`: both carry `state`, `ready` and `desired`.
 */
import type { ServiceState } from '../events/index.js';

/** The part of a service's state the predicates read: a `ServiceStatus` or a machine `Model` both fit. */
export interface StateOf {
  state: ServiceState;
  ready: boolean;
  /** `up` while tend should keep it running */
  desired: 'up' | 'down';
}

/** States in which a process of the service exists (or is being spawned), including one being stopped. */
export function hasProcessState(state: ServiceState): boolean {
  return (
    state === 'starting' ||
    state === 'running' ||
    state === 'ready' ||
    state === 'unhealthy' ||
    state === 'stopping'
  );
}

/** A process of the service exists: starting, running, ready, unhealthy or stopping. */
export function isLive(s: Pick<StateOf, 'state'>): boolean {
  return hasProcessState(s.state);
}

/** A process exists and is meant to keep running (live, and not being stopped). */
export function isServing(s: Pick<StateOf, 'state'>): boolean {
  return isLive(s) && s.state !== 'stopping';
}

/** A process runs and is meant to (running, ready, unhealthy): `tend_service_up`, the pid a table shows. */
export function isRunning(s: Pick<StateOf, 'state'>): boolean {
  return s.state === 'running' || s.state === 'ready' || s.state === 'unhealthy';
}

/** Between two settled states: a process being spawned or stopped. An action's answer waits past it. */
export function isTransient(s: Pick<StateOf, 'state'>): boolean {
  return s.state === 'starting' || s.state === 'stopping';
}

/**
 * Ready for `after` dependants, /readyz and the `N/M ready` counts: a readiness probe passed (or there is none)
 * and the process still runs. The machine clears `ready` on every stop and exit; the state check keeps a
 * reader of an older snapshot from calling a stopping or dead service ready.
 */
export function isReady(s: Pick<StateOf, 'state' | 'ready'>): boolean {
  return s.ready && (s.state === 'running' || s.state === 'ready');
}

/**
 * Has no process and none will come by itself: stopped, exited, or failed (a failed service with a cooldown
 * is tried again only after it: until then the failure is what there is to see).
 */
export function hasEndedForGood(s: Pick<StateOf, 'state'>): boolean {
  return s.state === 'stopped' || s.state === 'exited' || s.state === 'failed';
}

/** Ended against tend's wish: failed, or a long-running service that exited while it should run. */
export function hasFailed(s: Pick<StateOf, 'state' | 'desired'>, job = false): boolean {
  return s.state === 'failed' || (!job && s.state === 'exited' && s.desired === 'up');
}

/** Failed while tend still wants it up: a new chance (config complete, a config change) may start it. */
export function isGivenUp(s: Pick<StateOf, 'state' | 'desired'>): boolean {
  return s.state === 'failed' && s.desired === 'up';
}

/** Held back by a gate: it would start now if its gates were open. */
export function isWaiting(s: Pick<StateOf, 'state'>): boolean {
  return s.state === 'waiting';
}

/** Between two attempts (backoff) or before its first: tend will start it by itself. */
export function isPending(s: Pick<StateOf, 'state' | 'desired'>): boolean {
  return s.desired === 'up' && (s.state === 'waiting' || s.state === 'backoff');
}

/**
 * Ready, and not caught between two crashes: no failure since it last ran `reset_after` (`failureStreak` of
 * `ServiceStatus`). A crash-looping service without a readiness probe is ready for a moment after each spawn;
 * it is not steady.
 */
export function isSteady(s: Pick<StateOf, 'state' | 'ready'> & { failureStreak?: number }): boolean {
  return isReady(s) && !(s.failureStreak && s.failureStreak > 0);
}

/**
 * Settled for a start-up view: steady, or ended for good. A crash-looping service (backing off, unhealthy, or
 * up again for a moment after a crash) is not settled.
 */
export function isSettled(s: Pick<StateOf, 'state' | 'ready'> & { failureStreak?: number }): boolean {
  return isSteady(s) || hasEndedForGood(s);
}

/** The kinds of gate a service can wait behind (from the gate's id). */
export type GateKind = 'config' | 'settings' | 'after' | 'requires' | 'other';

export interface Gate {
  id: string;
  reason: string;
}

export interface Waiting {
  gate: GateKind;
  /** the service waited for (`after`, `requires`) */
  on?: string;
  reason: string;
}

/** Gate ids, as the modules that close them name them: `config`, `settings`, `after:<svc>`, `requires:<svc>`. */
export function gateKind(id: string): { gate: GateKind; on?: string } {
  if (id === 'config') return { gate: 'config' };
  if (id === 'settings') return { gate: 'settings' };
  const colon = id.indexOf(':');
  if (colon > 0) {
    const head = id.slice(0, colon);
    const on = id.slice(colon + 1);
    if (head === 'after' || head === 'requires') return { gate: head, on };
  }
  return { gate: 'other' };
}

/** Why a waiting service waits: one entry per closed gate, in the order they closed. Empty when not waiting. */
export function waitingFor(s: Pick<StateOf, 'state'>, gates: readonly Gate[]): Waiting[] {
  if (!isWaiting(s)) return [];
  return gates.map((g) => ({ ...gateKind(g.id), reason: g.reason }));
}

/** The service that is not ready, in a few words: `web failed (3 failures …)`, `db waiting (waiting for …)`. */
export function describeNotReady(
  name: string,
  s: Pick<StateOf, 'state'> & { reason?: string },
  gates: readonly Gate[] = [],
): string {
  const why = isWaiting(s) && gates.length > 0 ? gates.map((g) => g.reason).join('; ') : s.reason;
  return `${name} ${s.state}${why ? ` (${why})` : ''}`;
}
