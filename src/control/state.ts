/**
 * What the control plane keeps per running tend beyond the stack itself: the plan currently applied (it changes
 * on reload), maintenance mode, the last check result per service, and the app's lifecycle timeline. Kept per
 * Runtime (not per process) so tests can run several tends in one process, and reachable by other modules
 * (discovery reads maintenance, the scheduler follows reloads) without going through the HTTP server.
 */
import type { Runtime } from '../app/index.js';
import type { Bus, TendEvent } from '../events/index.js';
import type { Plan } from '../manifest/types.js';
import type { AppTimelineEntry, HealthSummary, ReloadResult } from './types.js';

const TIMELINE_MAX = 200;

export interface ControlState {
  /** the plan as last applied: the start-up plan, then each successful reload's */
  plan: Plan;
  readonly startedAt: number;
  /** the TCP listener's URL once it listens */
  httpUrl?: string;
  maintenance(): boolean;
  setMaintenance(on: boolean, reason?: string): void;
  /** called with the new value on every change; returns the unsubscribe function */
  onMaintenance(listener: (on: boolean) => void): () => void;
  health(service: string): HealthSummary | undefined;
  timeline(): AppTimelineEntry[];
  /** called after each successful reload with what changed and the new plan */
  onReload(listener: (result: ReloadResult, plan: Plan) => void): () => void;
  reloaded(result: ReloadResult, plan: Plan): void;
  /** serialises reloads: a second one waits for the first */
  exclusive<T>(fn: () => Promise<T>): Promise<T>;
  close(): void;
}

const states = new WeakMap<Runtime, ControlState>();

/** The control state of a running tend, created on first use by whichever module asks first. */
export function controlState(rt: Runtime): ControlState {
  let s = states.get(rt);
  if (!s) {
    s = createControlState(rt.plan, rt.bus);
    states.set(rt, s);
  }
  return s;
}

/** Maintenance mode of a running tend, for the discovery module: deregister while `on()`. */
export function maintenanceOf(rt: Runtime): Pick<ControlState, 'maintenance' | 'onMaintenance'> {
  const s = controlState(rt);
  return { maintenance: () => s.maintenance(), onMaintenance: (l) => s.onMaintenance(l) };
}

/** Follow reloads (e.g. the scheduler re-syncs its jobs); returns the unsubscribe function. */
export function onReload(rt: Runtime, listener: (result: ReloadResult, plan: Plan) => void): () => void {
  return controlState(rt).onReload(listener);
}

function createControlState(plan: Plan, bus: Bus): ControlState {
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
