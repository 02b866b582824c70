/**
 * Readiness and liveness checks of services.
 *
 *   ready:  { http | tcp | exec | log, interval, timeout }   polled from spawn until it passes; not passing
 *           within `timeout` is a failed start (the restart policy decides). Without `ready`, a service is
 *           ready once it runs. `after` dependants and /readyz wait for it.
 *   health: { http | tcp | exec, interval, timeout, failures, grace }   first check `grace` after the spawn,
 *           then every `interval` (start to start, never overlapping); a check slower than `timeout` fails;
 *           `failures` failures in a row make the service unhealthy and restart it (counted as a failure).
 *
 * Results are published as `health` events ({service, check: ready|health, ok, output}) and noted in the
 * service's log only when `ok` changes (and once per process for each check), so a steady state is silent; the
 * control plane keeps the last event per service for `tend status`. HTTP probes want a 2xx (certificates are
 * not verified), TCP probes a connection, exec probes exit code 0 (run with the service's cwd and environment,
 * in their own process group, killed with it on timeout). A log probe matches each stdout/stderr line against
 * the regular expression. Discovery reads the health events to pass or warn its registrations.
 *
 * Wiring: `healthModule()` is a Module of `tend up`: its ServiceHooks factory runs the checks of each service,
 * and attaching binds them to the run's bus, environment and metrics.
 */
import type { Module, Runtime, ServiceHooksFactory } from '../runtime/index.js';
import { serviceEnv } from '../supervisor/index.js';
import { type CheckResult, createServiceChecks, type ServiceChecks } from './checks.js';

export {
  type CheckKind,
  type CheckResult,
  createServiceChecks,
  type ServiceChecks,
  type ServiceChecksOptions,
} from './checks.js';
export {
  type AttemptOptions,
  type AttemptProbe,
  type ProbeResult,
  runProbe,
} from './probe.js';

export interface HealthModule extends Module {
  serviceHooks: ServiceHooksFactory;
  /** the newest results of a service's checks (current process) */
  last(service: string): { ready?: CheckResult; health?: CheckResult };
}

export function healthModule(): HealthModule {
  let rt: Runtime | undefined;
  const checks = new Map<string, ServiceChecks>();
  return {
    name: 'health',
    serviceHooks(sp, log) {
      const c = createServiceChecks({
        service: sp,
        log,
        // The service's own environment, the one every child of it gets (env_from, TEND_INSTANCE …).
        env: () =>
          rt?.stack.envOf(sp.name) ??
          serviceEnv({ base: process.env, app: rt?.plan.name ?? '', dataDir: rt?.plan.dataDir ?? '' }, sp),
        publish: (e) => rt?.bus.publish(e),
        observe: (check, seconds) =>
          rt?.metrics.healthCheckDuration.observe({ service: sp.name, check }, seconds),
        answered: (check, r) =>
          rt?.control.noteProbeAnswer?.(sp.name, {
            check,
            ok: r.ok,
            output: r.output,
            time: new Date().toISOString(),
          }),
      });
      checks.set(sp.name, c);
      return c.hooks;
    },
    async attach(runtime) {
      rt = runtime;
      return {
        async close() {
          for (const c of checks.values()) c.hooks.stopProbes?.();
        },
      };
    },
    last: (service) => checks.get(service)?.last() ?? {},
  };
}
