/**
 * What a running tend keeps beyond the stack itself: the plan currently applied (it changes on reload),
 * maintenance mode, the last check result per service, and the app's lifecycle timeline. One per run (not per
 * process) so tests can run several tends in one process; modules reach it as `rt.control`.
 */
import type { Bus, TendEvent } from '../events/index.js';
import type { Plan } from '../manifest/types.js';
import type { AppTimelineEntry, ControlState, HealthSummary, ReloadResult } from '../runtime/index.js';

const TIMELINE_MAX = 200;

/** The control state of a run: created once by startUp, handed to every module as `rt.control`. */
export function createControlState(plan: Plan, bus: Bus): ControlState {
  let maintenance = false;
  const maintenanceListeners = new Set<(on: boolean) => void>();
  const reloadListeners = new Set<(result: ReloadResult, plan: Plan) => void>();
  const health = new Map<string, HealthSummary>();
  const timeline: AppTimelineEntry[] = [];
  let queue: Promise<unknown> = Promise.resolve();

  const see = (e: TendEvent) => {
    if (e.kind === 'health') {
      health.set(e.service, { check: e.check, ok: e.ok, output: e.output, time: e.time });
    } else if (e.kind === 'app') {
      timeline.push({ state: e.to, from: e.from, reason: e.reason, time: e.time });
      if (timeline.length > TIMELINE_MAX) timeline.splice(0, timeline.length - TIMELINE_MAX);
    }
  };
  // Events published before the control plane attached (e.g. BOOT) are still in the bus history.
  for (const e of bus.recent()) see(e);
  const unsubscribe = bus.subscribe(see);

  const state: ControlState = {
    plan,
    startedAt: Date.now(),
    startedMono: performance.now(),
    maintenance: () => maintenance,
    setMaintenance(on, reason) {
      if (on === maintenance) return;
      maintenance = on;
      bus.publish({ kind: 'maintenance', on, reason: reason ?? `maintenance ${on ? 'on' : 'off'}` });
      for (const l of maintenanceListeners) {
        try {
          l(on);
        } catch (err) {
          process.stderr.write(`tend: maintenance listener failed: ${(err as Error).message}\n`);
        }
      }
    },
    onMaintenance(l) {
      maintenanceListeners.add(l);
      return () => maintenanceListeners.delete(l);
    },
    health: (service) => health.get(service),
    timeline: () => [...timeline],
    onReload(l) {
      reloadListeners.add(l);
      return () => reloadListeners.delete(l);
    },
    reloaded(result, next) {
      state.plan = next;
      for (const name of result.removed) health.delete(name);
      for (const l of reloadListeners) {
        try {
          l(result, next);
        } catch (err) {
          process.stderr.write(`tend: reload listener failed: ${(err as Error).message}\n`);
        }
      }
    },
    exclusive(fn) {
      const run = queue.then(fn, fn);
      queue = run.catch(() => undefined);
      return run;
    },
    close() {
      unsubscribe();
      maintenanceListeners.clear();
      reloadListeners.clear();
    },
  };
  return state;
}
