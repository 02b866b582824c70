/** The status view: what `tend status`, `/api/status` and the dashboard show, built from the live stack. */
import { type ControlState, type Runtime, VERSION } from '../runtime/index.js';
import { describeNotReady, isReady, type ServiceStatus } from '../supervisor/index.js';
import type { HealthSummary, ServiceView, StatusView } from './types.js';

/**
 * The last check result, if it says something about the process there is now: one of an earlier process
 * (a restarted service not ready yet) is stale and left out; with no process, only a failure is kept (why it
 * went). Every process reports each of its checks at least once (health/checks.ts).
 */
function currentHealth(s: ServiceStatus, h: HealthSummary | undefined): HealthSummary | undefined {
  if (!h) return undefined;
  if (s.startedAt === undefined) return h.ok ? undefined : h;
  return Date.parse(h.time) >= s.startedAt ? h : undefined;
}

export function serviceView(rt: Runtime, cs: ControlState, name: string): ServiceView | undefined {
  const r = rt.stack.runner(name);
  if (!r) return undefined;
  const s = r.status();
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
    health: currentHealth(s, cs.health(name)),
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
  const state = rt.appState();
  return {
    app: {
      name: cs.plan.name,
      state,
      file: cs.plan.file,
      pid: process.pid,
      version: VERSION,
      startedAt: cs.startedAt,
      // monotonic: a wall clock stepped back must not make it negative
      uptimeMs: Math.round(performance.now() - cs.startedMono),
      maintenance: cs.maintenance(),
      http: cs.httpUrl,
      ready: state === 'UP' && rt.stack.allReady(),
      notReady: rt.stack
        .status()
        .filter((s) => !s.job && !isReady(s))
        .map((s) => `${s.name} ${s.state}`),
      kv: { url: rt.kv.url, ...rt.kv.status() },
    },
    services: serviceNames(rt, cs)
      .map((n) => serviceView(rt, cs, n))
      .filter((s): s is ServiceView => s !== undefined),
    disabled: cs.plan.disabled,
    templates: rt.renderStatus()?.templates,
    timeline: cs.timeline(),
  };
}

/** Why /readyz says no, in one line: the app state, or the services that are not ready and why. */
export function notReadyReason(rt: Runtime, _cs: ControlState): string | undefined {
  const state = rt.appState();
  if (state !== 'UP') return `app is ${state}`;
  const pending = rt.stack.status().filter((s) => !s.job && !isReady(s));
  if (pending.length === 0) return undefined;
  return pending.map((s) => describeNotReady(s.name, s, rt.stack.gates(s.name))).join(', ');
}
