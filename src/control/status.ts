/** The status view: what `tend status`, `/api/status` and the dashboard show, built from the live stack. */
import { type ControlState, type Runtime, VERSION } from '../runtime/index.js';
import type { ServiceView, StatusView } from './types.js';

export function serviceView(
  rt: Runtime,
  cs: ControlState,
  name: string,
  now = Date.now(),
): ServiceView | undefined {
  const r = rt.stack.runner(name);
  if (!r) return undefined;
  const s = r.status(now);
  return {
    name: s.name,
    state: s.state,
    reason: s.reason,
    pid: s.pid,
    ready: s.ready,
    restarts: s.restarts,
    startedAt: s.startedAt,
    uptimeMs: s.uptimeMs,
    lastExit: s.lastExit,
    job: s.job,
    essential: r.plan.essential,
    waitingFor: rt.stack.gates(name).map((g) => g.reason),
    checks: { ready: r.plan.ready !== undefined, health: r.plan.health !== undefined },
    health: cs.health(name),
  };
}

/** Services in the applied plan's start order; any the stack has beyond it (mid-reload) come last. */
export function serviceNames(rt: Runtime, cs: ControlState): string[] {
  const live = new Set(rt.stack.names());
  const ordered = cs.plan.order.filter((n) => live.has(n));
  for (const n of ordered) live.delete(n);
  return [...ordered, ...live];
}

export function statusView(rt: Runtime, cs: ControlState): StatusView {
  const now = Date.now();
  const state = rt.appState();
  return {
    app: {
      name: cs.plan.name,
      state,
      file: cs.plan.file,
      pid: process.pid,
      version: VERSION,
      startedAt: cs.startedAt,
      uptimeMs: now - cs.startedAt,
      maintenance: cs.maintenance(),
      http: cs.httpUrl,
      ready: state === 'UP' && rt.stack.allReady(),
      kv: { url: rt.kv.url, ...rt.kv.status() },
    },
    services: serviceNames(rt, cs)
      .map((n) => serviceView(rt, cs, n, now))
      .filter((s): s is ServiceView => s !== undefined),
    disabled: cs.plan.disabled,
    timeline: cs.timeline(),
  };
}

/** Why /readyz says no, in one line: the app state, or the services that are not ready and why. */
export function notReadyReason(rt: Runtime, cs: ControlState): string | undefined {
  const state = rt.appState();
  if (state !== 'UP') return `app is ${state}`;
  const pending = statusView(rt, cs).services.filter((s) => !s.job && !s.ready);
  if (pending.length === 0) return undefined;
  return pending.map((s) => `${s.name} ${s.state}${s.reason ? ` (${s.reason})` : ''}`).join(', ');
}
