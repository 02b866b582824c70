/**
 * `finish` hooks (runit's `finish`, seed 000): after every exit of a service its command runs with the exit
 * facts in the environment and, like runit, as `$1` (exit code, -1 when killed) and `$2` (signal number, 0
 * when none), so existing runit finish scripts work unchanged. A hook never holds back the restart: the
 * runner fires it and moves on; its outcome is a `finish` event and its output goes to the service's log.
 */
import { constants } from 'node:os';
import type { Bus } from '../events/index.js';
import type { ServiceLog } from '../logs/index.js';
import type { ServicePlan } from '../manifest/types.js';
import { type ServiceHooks, serviceEnv } from '../supervisor/index.js';
import { withTimeout } from '../time/index.js';
import { describeResult, runCommand } from './command.js';

/** A service in a crash loop would otherwise pile up hooks; beyond this many in flight, runs are skipped. */
const MAX_IN_FLIGHT = 4;

export interface FinishHooks {
  /** the `finish` part of a service's hooks; empty when the service has no `finish` */
  hooksFor(service: ServicePlan, log?: ServiceLog): Pick<ServiceHooks, 'finish'>;
  /** hook runs in flight, all services */
  running(): number;
  /** waits for hooks in flight (each is bounded by its own timeout); kills what remains after `timeoutMs` */
  drain(timeoutMs: number): Promise<void>;
}

export interface FinishOptions {
  bus: Bus;
  app: string;
  /**
   * The environment of the service's children (Stack.envOf / Runtime.envOf): env_from, TEND_INSTANCE and the
   * rest, read at each run. Without it (or for a service it does not know) the hook gets `env` with the
   * service's manifest env, as a bare test sets up.
   */
  envOf?: (service: string) => Record<string, string> | undefined;
  /** tend's own environment, the base when `envOf` has no answer */
  env?: NodeJS.ProcessEnv;
  /** the data folder (TEND_DATA_DIR) when `envOf` has no answer */
  dataDir?: string;
}

export function createFinishHooks(opts: FinishOptions): FinishHooks {
  const inFlight = new Set<Promise<void>>();
  const perService = new Map<string, number>();
  const abort = new AbortController();

  const run = (
    sp: ServicePlan,
    log: ServiceLog | undefined,
    code: number | null,
    signal: string | null,
    restarts: number,
  ) => {
    const command = sp.finish;
    if (!command) return;
    const busy = perService.get(sp.name) ?? 0;
    if (busy >= MAX_IN_FLIGHT) {
      opts.bus.publish({
        kind: 'finish',
        service: sp.name,
        ok: false,
        output: `skipped: ${busy} earlier finish hooks of ${sp.name} are still running`,
      });
      return;
    }
    perService.set(sp.name, busy + 1);
    const signalNo = signal ? ((constants.signals as Record<string, number>)[signal] ?? 0) : 0;
    const base =
      opts.envOf?.(sp.name) ??
      serviceEnv({ base: opts.env ?? process.env, app: opts.app, dataDir: opts.dataDir ?? '' }, sp);
    const env: NodeJS.ProcessEnv = {
      ...base,
      TEND_EXIT_CODE: code === null ? '' : String(code),
      TEND_EXIT_SIGNAL: signal ?? '',
      TEND_RESTARTS: String(restarts),
    };
    const p = runCommand(command, {
      cwd: sp.cwd,
      env,
      // the finish hook is the service's child: it runs as the service's user, with its groups
      user: sp.runAs,
      timeoutMs: sp.finishTimeoutMs,
      args: [code === null ? '-1' : String(code), String(signalNo)],
      signal: abort.signal,
      onSpawn(child) {
        if (!log) return;
        if (child.stdout) log.attach(child.stdout, 'stdout');
        if (child.stderr) log.attach(child.stderr, 'stderr');
      },
    }).then((r) => {
      if (!r.ok) log?.note(`finish hook failed: ${describeResult(r, sp.finishTimeoutMs)}`);
      opts.bus.publish({
        kind: 'finish',
        service: sp.name,
        ok: r.ok,
        exitCode: r.code,
        output: r.ok
          ? undefined
          : `${describeResult(r, sp.finishTimeoutMs)}${r.output ? `: ${r.output.trim()}` : ''}`,
      });
    });
    const tracked = p.finally(() => {
      inFlight.delete(tracked);
      perService.set(sp.name, (perService.get(sp.name) ?? 1) - 1);
    });
    inFlight.add(tracked);
  };

  return {
    hooksFor(sp, log) {
      if (!sp.finish) return {};
      return { finish: (code, signal, restarts) => run(sp, log, code, signal, restarts) };
    },
    running: () => inFlight.size,
    async drain(timeoutMs) {
      if (inFlight.size === 0) return;
      await withTimeout(Promise.all(inFlight), timeoutMs, () => undefined);
      if (inFlight.size > 0) {
        abort.abort();
        await Promise.all(inFlight);
      }
    },
  };
}
