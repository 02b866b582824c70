/**
 * `tend up` and `tend run` in the foreground: the one place that chooses the modules of a run and wires them
 * to `startUp`. Modules load lazily (dynamic imports), so commands that never supervise never pay for them,
 * and a run loads only the modules its manifest uses (`modulesNeeded`): the render loop and the template
 * engine for templates, env_from or a settings overlay, the probes for `ready`/`health`, discovery for
 * `register`/`requires`. A reload whose manifest starts using one loads and attaches it then.
 */
import type { Discovery, OpenRegistryOptions } from '../discovery/index.js';
import type { Plan } from '../manifest/types.js';
import { type Module, StartError } from '../runtime/index.js';
import { handleSignals, type Running, startUp } from './up.js';

const err = (text: string) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`);

/** The optional modules of `tend up` a plan needs (control, live view, guard and fleet always attach). */
export interface Needs {
  /** templates, env_from, or the settings overlay from the KV store */
  render: boolean;
  /** a `ready` or `health` check */
  health: boolean;
  /** a service registers or requires another */
  discovery: boolean;
}

export function modulesNeeded(plan: Plan): Needs {
  const services = Object.values(plan.services);
  return {
    render:
      plan.settings.kvPrefix !== undefined ||
      services.some((s) => s.templates.length > 0 || s.envFrom.length > 0),
    health: services.some((s) => s.ready !== undefined || s.health !== undefined),
    discovery: services.some((s) => s.register !== undefined || s.requires.length > 0),
  };
}

type Optional = keyof Needs;
const OPTIONAL: Optional[] = ['render', 'health', 'discovery'];

/**
 * Loads the optional modules on demand, once each: `forPlan(plan)` answers those `plan` needs that were not
 * loaded yet (in start order), and the registry opener works once discovery's code is in (the render loop
 * reaches it through a template's `service`, so it loads with either).
 */
function optionalModules() {
  const loaded = new Set<Optional>();
  let discoveryCode: typeof import('../discovery/index.js') | undefined;
  let render: import('../render/index.js').RenderModule | undefined;
  const load = async (which: Optional): Promise<Module> => {
    switch (which) {
      case 'render': {
        const [r] = await Promise.all([import('../render/index.js'), loadDiscovery()]);
        render = r.renderModule();
        return render;
      }
      case 'health':
        return (await import('../health/index.js')).healthModule();
      case 'discovery':
        return (await loadDiscovery()).discoveryModule();
      default: {
        const never: never = which;
        return never;
      }
    }
  };
  const loadDiscovery = async () => {
    discoveryCode ??= await import('../discovery/index.js');
    return discoveryCode;
  };
  return {
    async forPlan(plan: Plan): Promise<Module[]> {
      const needs = modulesNeeded(plan);
      const next = OPTIONAL.filter((m) => needs[m] && !loaded.has(m));
      const modules = await Promise.all(next.map(load));
      for (const m of next) loaded.add(m);
      return modules;
    },
    openDiscovery(o: OpenRegistryOptions): Discovery {
      // only the render loop and the discovery module open it, and each loads the code first
      if (!discoveryCode) throw new Error('internal error: discovery opened before its code was loaded');
      return discoveryCode.createDiscovery(discoveryCode.openRegistry(o));
    },
    renderStatus: () => render?.status(),
  };
}

/** Runs the stack of `plan` until it stops; resolves with tend's exit code. */
export async function runForeground(plan: Plan): Promise<number> {
  const signals = handleSignals();
  const optional = optionalModules();
  // The other modules load while the guard works (its pid-file lock, leftovers and koffi wait on the disk):
  // loading only compiles code, it writes nothing and spawns nothing. A `tend up` profile (bench/RESULTS.md,
  // F9) had these imports start only after the guard was done.
  const loading = Promise.all([
    import('../control/index.js'),
    import('../fleet/index.js'),
    optional.forPlan(plan),
  ]);
  loading.catch(() => {}); // awaited below; a start refused by the guard never looks at it
  // PID 1 / subreaper, pid file, leftovers of a killed run, pid records, sd_notify: claimed before anything
  // else writes to the state folder or spawns
  let guard: import('../guard/index.js').Guard;
  try {
    guard = await (await import('../guard/index.js')).startGuard(plan);
  } catch (e) {
    signals.remove();
    if (e instanceof StartError) {
      err(`tend: ${e.message}`);
      return e.exitCode;
    }
    throw e;
  }
  const [control, fleet, modules] = await loading;
  // rollout: the render loop hands changes of services with `rollout:` to the fleet module through rt.rollout
  const rolloutModule = fleet.rolloutModule();
  let running: Running;
  try {
    running = await startUp({
      plan,
      env: guard.env,
      // in attach order: the control plane first, so that a second `tend up` on the same state folder is
      // refused before anything starts; then the render loop, whose gates close before the services start
      modules: [
        guard.module,
        control.controlModule(),
        control.liveViewModule(),
        // before the render loop: a rollout on a store that cannot hold one is refused before anything starts
        rolloutModule,
        ...modules,
        fleet.fleetModule(rolloutModule),
      ],
      modulesFor: (next) => optional.forPlan(next),
      openDiscovery: (o) => optional.openDiscovery(o),
      serviceEnv: guard.serviceEnv,
      renderStatus: () => optional.renderStatus(),
      rollout: (change) => rolloutModule.apply(change),
      rolloutStatus: () => rolloutModule.status(),
    });
  } catch (e) {
    await guard.release();
    signals.remove();
    if (e instanceof StartError) {
      err(`tend: ${e.message}`);
      return e.exitCode;
    }
    throw e;
  }
  signals.bind(running);
  const code = await running.done;
  signals.remove();
  // Anything still holding the loop open past this point is a bug; don't let it keep a container alive.
  setTimeout(() => process.exit(code), 2000).unref();
  return code;
}
