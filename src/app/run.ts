/**
 * `tend up` and `tend run` in the foreground: the one place that chooses the modules of a run and wires them
 * to `startUp`. Modules load lazily (dynamic imports), so commands that never supervise never pay for them.
 */
import type { Plan } from '../manifest/types.js';
import { StartError } from '../runtime/index.js';
import { handleSignals, type Running, startUp } from './up.js';

const err = (text: string) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`);

/** Runs the stack of `plan` until it stops; resolves with tend's exit code. */
export async function runForeground(plan: Plan): Promise<number> {
  const signals = handleSignals();
  // The other modules load while the guard works (its pid-file lock, leftovers and koffi wait on the disk):
  // loading only compiles code, it writes nothing and spawns nothing. A `tend up` profile (bench/RESULTS.md,
  // F9) had these imports start only after the guard was done.
  const loading = Promise.all([
    import('../control/index.js'),
    import('../render/index.js'),
    import('../health/index.js'),
    import('../discovery/index.js'),
    import('../fleet/index.js'),
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
  const [control, render, health, discovery, fleet] = await loading;
  const renderModule = render.renderModule();
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
        // before the render loop: a rollout on a store without a semaphore is refused before anything starts
        rolloutModule,
        renderModule,
        health.healthModule(),
        discovery.discoveryModule(),
        fleet.fleetModule(rolloutModule),
      ],
      serviceEnv: guard.serviceEnv,
      renderStatus: () => renderModule.status(),
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
